package dev.modelcache.core;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import dev.modelcache.core.spi.RemoteObject;
import dev.modelcache.core.spi.SourceChecksum;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.BitSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One file of a download, in its staging directory: what the source listed for it, where it is
 * staged, which of its blocks are written and the CRC32C of the bytes received for each, how many
 * times it was fetched, how it is checked against the source (in order, or block by block) and
 * what that check found.
 *
 * <p>Thread-safe. Transfer threads mark blocks written ({@link #markDone}) and write the file's
 * bytes holding {@link #writeLock}; tail threads read the CRCs back and record the outcome of the
 * source check; the download thread {@link #reset}s the file between fetch rounds, when no other
 * thread uses it (its tasks of the round were all awaited, which also publishes what they wrote).
 * The written blocks and their CRCs are guarded by {@code blocksLock}; the counters are atomic;
 * the outcome fields are volatile, each written by one thread at a time. Lock order: the file's {@link OrderedReadBack}
 * lock, then {@code blocksLock}; {@link #writeLock} is never held with either.
 */
final class StagedFile {

  /** What {@link #markDone} did. */
  enum Marked {
    /** The block was marked written before: nothing changed. */
    ALREADY,
    /** The block is marked written; others are still missing. */
    MARKED,
    /** The block was the file's last missing one. */
    COMPLETED
  }

  private final int index;
  private final RemoteObject object;
  private final Path target;
  private final long blockBytes;
  private final int blockCount;

  private final ReentrantLock blocksLock = new ReentrantLock();

  /** The blocks written (or kept on resume). */
  @GuardedBy("blocksLock")
  private final BitSet done;

  /** Per block: the CRC32C of the bytes received for it, once it is written. */
  @GuardedBy("blocksLock")
  private final int[] crcs;

  private final AtomicInteger blocksLeft;
  private final ReentrantLock writeLock = new ReentrantLock();
  private final AtomicBoolean tailStarted = new AtomicBoolean();

  /** The read-back of this fetch round, or null when the file is verified block by block. */
  private volatile OrderedReadBack readBack;
  /**
   * This round's check of a multipart checksum whose parts are the blocks, or null: such a file
   * is read back block by block, each block's digest a part's.
   */
  private volatile MultipartEtag.PerBlock perBlockCheck;
  /** The source checksum the bytes matched: null until then, or for ever if unverifiable. */
  private volatile SourceChecksum verified;
  /** Why the file could not be verified against the source, once that is known; else null. */
  private volatile String unverifiedBecause;
  /** How many times the file was fetched (a file whose source checksum failed is fetched again). */
  private final AtomicInteger fetchAttempts = new AtomicInteger(1);
  /** What the last inconclusive source check computed, to tell an untried part size from corruption. */
  private volatile String lastComputed;

  /**
   * @param index the file's position in the listing (and in the journal)
   * @param object what the source listed
   * @param target where it is staged
   * @param blockBytes the download's block size
   */
  StagedFile(int index, RemoteObject object, Path target, long blockBytes) {
    this.index = index;
    this.object = object;
    this.target = target;
    this.blockBytes = blockBytes;
    this.blockCount = blockCount(object.sizeBytes(), blockBytes);
    this.done = new BitSet(blockCount);
    this.crcs = new int[blockCount];
    this.blocksLeft = new AtomicInteger(blockCount);
    newSourceCheck();
  }

  /** How many blocks of {@code blockBytes} a file of {@code sizeBytes} has. */
  static int blockCount(long sizeBytes, long blockBytes) {
    return (int) ((sizeBytes + blockBytes - 1) / blockBytes);
  }

  int index() {
    return index;
  }

  RemoteObject object() {
    return object;
  }

  /** The file's path in the manifest. */
  String path() {
    return object.relativePath();
  }

  long sizeBytes() {
    return object.sizeBytes();
  }

  /** The staging file. */
  Path target() {
    return target;
  }

  /** The download's block size. */
  long blockBytes() {
    return blockBytes;
  }

  int blockCount() {
    return blockCount;
  }

  /** Where block {@code block} starts in the file. */
  long blockOffset(int block) {
    return block * blockBytes;
  }

  /** The length of block {@code block}: the block size, or less for the last one. */
  long blockLength(int block) {
    return Math.min(blockBytes, object.sizeBytes() - block * blockBytes);
  }

  /** Held while writing the file's bytes: one writer per file at a time. */
  ReentrantLock writeLock() {
    return writeLock;
  }

  boolean isDone(int block) {
    blocksLock.lock();
    try {
      return done.get(block);
    } finally {
      blocksLock.unlock();
    }
  }

  /** Marks block {@code block} written with the CRC32C {@code crc} of the bytes received. */
  Marked markDone(int block, int crc) {
    blocksLock.lock();
    try {
      if (done.get(block)) {
        return Marked.ALREADY;
      }
      done.set(block);
      crcs[block] = crc;
    } finally {
      blocksLock.unlock();
    }
    return blocksLeft.decrementAndGet() == 0 ? Marked.COMPLETED : Marked.MARKED;
  }

  /** Whether every block is written. */
  boolean isComplete() {
    return blocksLeft.get() == 0;
  }

  /** The CRC32C received for block {@code block}; 0 while it is not written. */
  int crc(int block) {
    blocksLock.lock();
    try {
      return crcs[block];
    } finally {
      blocksLock.unlock();
    }
  }

  /** A copy of the CRC32C received for each block. */
  int[] crcs() {
    blocksLock.lock();
    try {
      return crcs.clone();
    } finally {
      blocksLock.unlock();
    }
  }

  /** Claims the file's tail work (fsync, checks) for the caller: true once per fetch round. */
  boolean startTail() {
    return tailStarted.compareAndSet(false, true);
  }

  /** Whether the file's tail work of this round was claimed. */
  boolean tailStarted() {
    return tailStarted.get();
  }

  /** This round's in-order read-back, or null when the file is verified block by block. */
  OrderedReadBack readBack() {
    return readBack;
  }

  /** This round's multipart check that takes the blocks' digests in any order, or null. */
  MultipartEtag.PerBlock perBlockCheck() {
    return perBlockCheck;
  }

  /**
   * Whether the blocks are read back one by one as they are written: no whole-file digest needs
   * them in order (the file has no source checksum, or one of {@link #perBlockCheck}).
   */
  boolean verifiedPerBlock() {
    return readBack == null && blockCount > 0;
  }

  SourceChecksum verified() {
    return verified;
  }

  void verified(SourceChecksum checksum) {
    this.verified = checksum;
  }

  String unverifiedBecause() {
    return unverifiedBecause;
  }

  void unverifiedBecause(String why) {
    this.unverifiedBecause = why;
  }

  int fetchAttempts() {
    return fetchAttempts.get();
  }

  /** Records what an inconclusive source check computed; returns what the previous one did, or null. */
  String recordComputed(String computed) {
    String previous = lastComputed;
    lastComputed = computed;
    return previous;
  }

  /**
   * Forgets what was fetched of the file, so that the next round fetches all of it again. Only
   * between rounds: no other thread may use the file meanwhile.
   */
  void reset() {
    fetchAttempts.incrementAndGet();
    blocksLock.lock();
    try {
      done.clear();
      Arrays.fill(crcs, 0);
    } finally {
      blocksLock.unlock();
    }
    blocksLeft.set(blockCount);
    tailStarted.set(false);
    verified = null;
    newSourceCheck();
  }

  /** The manifest's record of this file, with {@code checksum} as the source check it passed. */
  ManifestFile manifestFile(SourceChecksum checksum) {
    return new ManifestFile(
        object.relativePath(),
        object.key(),
        object.sizeBytes(),
        object.etag(),
        object.versionId(),
        checksum,
        crcs());
  }

  /**
   * Sets up this round's check against the source: a {@link #perBlockCheck} for a multipart
   * checksum whose parts are the blocks; else an in-order read-back feeding the file's digest;
   * none for a file without blocks, without a source checksum, or whose multipart checksum fits no
   * part size (it stays unverified, and says why).
   */
  private void newSourceCheck() {
    SourceChecksum checksum = object.checksum();
    readBack = null;
    perBlockCheck = null;
    if (checksum == null || blockCount == 0) {
      return;
    }
    if (checksum.isMultipart()
        && MultipartEtag.partSizes(object.sizeBytes(), checksum.parts(), checksum.partSizeBytes())
            .isEmpty()) {
      unverifiedBecause = "its " + checksum + " names " + checksum.parts()
          + " parts, which no part size gives for " + object.sizeBytes() + " bytes";
      return;
    }
    perBlockCheck = MultipartEtag.PerBlock.of(checksum, object.sizeBytes(), blockBytes);
    if (perBlockCheck == null) {
      readBack = new OrderedReadBack(
          FileVerifier.SourceDigest.of(checksum, object.sizeBytes()), blockCount);
    }
  }
}
