package dev.modelcache.core;

import dev.modelcache.core.spi.RemoteObject;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.zip.CRC32C;

/**
 * Reads one download's written bytes back and checks them: every block's CRC32C against the one
 * computed from the bytes received, and each file against the checksum its source vouches for
 * (multipart ETag, MD5 ETag or S3 checksum). A file without a whole-file checksum is read back
 * block by block, each block as soon as it is written ({@link #verifyBlock}); so is a file whose
 * multipart checksum has the blocks for parts ({@link MultipartEtag.PerBlock}), each block's
 * digest then a part's; a file with another whole-file checksum is read back in order, as far as
 * its blocks are written ({@link #advance}), feeding the digest; an empty file is read back whole
 * ({@link #verifyFile}).
 *
 * <p>A file whose bytes do not match what the source vouches for is not a failure at once: it is
 * queued to be fetched again ({@link #pollRefetch}) while {@code maxAttempts} fetches of it are
 * not spent. The download runs another fetch round for such files once every tail of the round
 * is done.
 *
 * <p>Thread-safe: transfer threads call {@link #advance} and {@link #awaitReadBack}, tail threads
 * run the read-backs, the download thread polls the refetch queue and checks the outcome between
 * rounds. Each file's read-back state is guarded by its {@link OrderedReadBack}.
 */
final class ReadBack {

  private static final System.Logger LOG = System.getLogger(ReadBack.class.getName());

  private final ModelSource source;
  private final DownloadSettings settings;
  private final TailPool tails;
  private final DownloadFailure failure;
  /** Files whose source checksum failed and that are to be fetched again, after the tails of this round. */
  private final Queue<StagedFile> refetch = new ConcurrentLinkedQueue<>();

  private final AtomicLong verifyNanos = new AtomicLong();
  /** Bytes read back from the staging files, this download's count. */
  private final AtomicLong bytesReadBack;
  /**
   * Whether blocks are read back with O_DIRECT: while they are written so and until the file
   * system first refuses a direct open; then through a mapping.
   */
  private volatile boolean directReads;
  /** Whether the staging file system's block size fits O_DIRECT reads; null until first asked. */
  private volatile Boolean blockSizeFits;
  /** Whether the writer still writes with O_DIRECT; blocks it wrote through the page cache are read from there. */
  private final BooleanSupplier writesDirect;
  /** Told of every block read back and checked; decides whether a file may be fetched again. */
  private final BlockStream stream;

  ReadBack(
      ModelSource source,
      DownloadSettings settings,
      TailPool tails,
      DownloadFailure failure,
      BlockStream stream,
      BooleanSupplier writesDirect,
      AtomicLong bytesReadBack) {
    this.source = source;
    this.writesDirect = writesDirect;
    this.settings = settings;
    this.tails = tails;
    this.failure = failure;
    this.stream = stream;
    this.bytesReadBack = bytesReadBack;
    this.directReads = settings.directWrites();
  }

  /** Time spent reading back and checking so far, in nanoseconds. */
  long verifyNanos() {
    return verifyNanos.get();
  }

  /** The next file to fetch again, or null when none is queued. */
  StagedFile pollRefetch() {
    return refetch.poll();
  }

  /**
   * Under {@link ModelCache.Builder#requireSourceVerification}, fails before anything is fetched if
   * a file cannot be verified against the source: the store offers no checksum for it, or its
   * multipart ETag fits no part size.
   */
  void checkVerifiable(List<StagedFile> files) throws IntegrityException {
    if (!settings.requireSourceVerification()) {
      return;
    }
    List<String> refused = new ArrayList<>();
    for (StagedFile f : files) {
      if (f.readBack() == null
          && (f.object().checksum() == null || f.unverifiedBecause() != null)) {
        refused.add(unverifiable(f));
      }
    }
    if (!refused.isEmpty()) {
      throw new IntegrityException(
          "cannot verify every file of " + source + " against the source, as"
              + " requireSourceVerification (--require-verified) demands: "
              + String.join("; ", refused)
              + "; nothing was fetched",
          files.getFirst().path(),
          -1);
    }
  }

  /**
   * After the fetch: fails under {@link ModelCache.Builder#requireSourceVerification} if a file
   * could not be verified, else says once which files are committed unverified.
   */
  void reportUnverified(List<StagedFile> files) throws IntegrityException {
    List<String> unverifiedFiles = new ArrayList<>();
    String first = null;
    boolean anyOffered = false;
    for (StagedFile f : files) {
      anyOffered |= f.object().checksum() != null;
      if (f.verified() == null) {
        unverifiedFiles.add(unverifiable(f));
        first = first == null ? f.path() : first;
      }
    }
    if (unverifiedFiles.isEmpty()) {
      return;
    }
    if (settings.requireSourceVerification()) {
      throw new IntegrityException(
          "cannot verify every file of " + source + " against the source, as"
              + " requireSourceVerification (--require-verified) demands: "
              + String.join("; ", unverifiedFiles)
              + "; nothing was committed",
          first,
          -1);
    }
    // A file: source offers no checksums at all: that is its nature, not news.
    Level level = anyOffered || !"file".equals(source.scheme()) ? Level.WARNING : Level.DEBUG;
    LOG.log(
        level,
        () -> unverifiedFiles.size() + " of " + files.size() + " files of " + source
            + " are committed without a check against the source (their bytes are checked only against what was"
            + " received): " + String.join("; ", unverifiedFiles));
  }

  /** "model.safetensors: the store offers no checksum for it (ETag 'abc')". */
  private static String unverifiable(StagedFile f) {
    RemoteObject o = f.object();
    String why = f.unverifiedBecause() != null
        ? f.unverifiedBecause()
        : "the store offers no checksum for it ("
            + (o.etag() == null ? "no ETag" : "ETag '" + o.etag() + "'") + ")";
    return o.relativePath() + ": " + why;
  }

  /**
   * Holds the fetch of block {@code block} of a file read back in order while that read-back lags
   * more than {@code 2 x concurrency} blocks behind, so that the digest, which one thread computes,
   * gets CPU during the fetch instead of being left to run alone after the last byte. No deadlock:
   * the block the read-back waits for was queued before every block held here.
   */
  void awaitReadBack(StagedFile file, int block) throws InterruptedIOException {
    OrderedReadBack rb = file.readBack();
    if (rb == null) {
      return;
    }
    try {
      rb.awaitLag(block, 2 * settings.concurrency(), failure::isSet);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted waiting for the read-back of " + file.path());
    }
  }

  /**
   * After block {@code block} of {@code file} was written from {@code received} (its bytes as
   * received, still intact): for a file verified block by block, queues its read-back on a tail
   * thread, or without {@link DownloadSettings#readBack} takes the block as received (recording
   * its part digest, if it is a part); for a file read back in order, starts that read-back unless
   * it runs or the next block in order is not written yet.
   */
  void written(StagedFile file, int block, ByteBuffer received) throws IntegrityException {
    if (!file.verifiedPerBlock()) {
      advance(file);
    } else if (settings.readBack()) {
      tails.submit(() -> verifyBlock(file, block));
    } else {
      // Not read back (readBack(false)): the block stands as received.
      long t0 = System.nanoTime();
      stream.verified(file, block);
      recordPart(file, block, received);
      verifyNanos.addAndGet(System.nanoTime() - t0);
    }
  }

  /**
   * Records the part digest of block {@code block} of a file with a {@link StagedFile#perBlockCheck}
   * from {@code bytes}, its bytes, and checks the file against the source after the last one; does
   * nothing for other files.
   */
  private void recordPart(StagedFile file, int block, ByteBuffer bytes) throws IntegrityException {
    MultipartEtag.PerBlock check = file.perBlockCheck();
    if (check == null) {
      return;
    }
    MultipartEtag.PartHash hash = check.partHash();
    hash.update(bytes.duplicate());
    if (check.record(block, hash.finish())) {
      finishSourceCheck(file, check);
    }
  }

  /**
   * After block {@code block} of {@code file} was kept from an interrupted download, its bytes
   * ({@code bytes}, just read from the staging file) found as journaled: they count as its
   * read-back. A block of a file checked in order is read back by that check instead.
   */
  void kept(StagedFile file, int block, ByteBuffer bytes) throws IntegrityException {
    if (file.verifiedPerBlock()) {
      stream.verified(file, block);
      recordPart(file, block, bytes);
    } else {
      advance(file);
    }
  }

  /** Starts {@code file}'s in-order read-back, unless it runs or its next block is not written yet. */
  void advance(StagedFile file) {
    OrderedReadBack rb = file.readBack();
    if (rb != null && rb.tryStart(file::isDone)) {
      tails.submit(() -> readBackInOrder(file, rb));
    }
  }

  /** Fails if a file read back in order was not read back to its end: a bug, never a commit. */
  void checkComplete(List<StagedFile> files) {
    for (StagedFile f : files) {
      OrderedReadBack rb = f.readBack();
      if (rb != null && rb.position() != f.blockCount()) {
        throw new IllegalStateException(String.format(
            Locale.ROOT,
            "%s: read back %d of %d blocks before the commit",
            f.path(),
            rb.position(),
            f.blockCount()));
      }
    }
  }

  /**
   * Reads {@code file}'s blocks back in order while they are written; stops at the first one that
   * is not (its writer calls {@link #advance} again).
   */
  private void readBackInOrder(StagedFile file, OrderedReadBack rb) throws IOException {
    long t0 = System.nanoTime();
    int blocks = file.blockCount();
    try (Reads reads = open(file)) {
      for (int bi; (bi = rb.nextOrStop(file::isDone)) >= 0; ) {
        readBackBlock(reads, file, bi, rb.digest()::update);
        stream.verified(file, bi);
        if (bi == blocks - 1) {
          finishSourceCheck(file, rb.digest());
        }
        rb.advance();
      }
    } catch (InternalError e) {
      throw shrankWhileMapped(file, file.blockOffset(rb.position()), e);
    } finally {
      verifyNanos.addAndGet(System.nanoTime() - t0);
    }
  }

  /**
   * Once all of {@code file} was fed to {@code digest}: records the checksum it matched; or, on a
   * mismatch, has the file fetched again while attempts remain, and fails the download when they
   * are spent. An inconclusive mismatch (a multipart ETag whose part size was inferred) that two
   * fetches in a row computed alike means the bytes are what the store holds and the part size is
   * one not tried: the file is recorded as unverified. One that changed between fetches is
   * corruption on the way, fetched again like a conclusive one.
   */
  private void finishSourceCheck(StagedFile file, FileVerifier.SourceCheck digest)
      throws IntegrityException {
    RemoteObject o = file.object();
    VerificationResult.Mismatch m = digest.mismatch(file.manifestFile(o.checksum()));
    if (m == null) {
      file.verified(digest.verified());
      return;
    }
    int attempt = file.fetchAttempts();
    String computed = digest.computed();
    String previous = file.recordComputed(computed);
    if (!digest.conclusive() && computed.equals(previous)) {
      // Two fetches gave the same bytes: the upload's part size is one the cache did not try.
      file.unverifiedBecause(m.reason() + ", the same in two fetches");
      return;
    }
    if (!stream.refetchAllowed(file)) {
      throw new IntegrityException(
          String.format(
              Locale.ROOT,
              "%s of %s does not match the source: %s; it was streamed to a reader while it downloaded, so it is not"
                  + " fetched again; nothing was committed",
              o.relativePath(),
              source,
              m.reason()),
          o.relativePath(),
          -1);
    }
    if (attempt < settings.maxAttempts()) {
      LOG.log(
          Level.WARNING,
          String.format(
              Locale.ROOT,
              "%s of %s does not match the source (%s); fetching it again (fetch %d of at most %d)",
              o.relativePath(),
              source,
              m.reason(),
              attempt + 1,
              settings.maxAttempts()));
      refetch.add(file);
      return;
    }
    throw new IntegrityException(
        String.format(
            Locale.ROOT,
            "%s of %s does not match the source after %d fetches%s: %s; nothing was committed",
            o.relativePath(),
            source,
            attempt,
            digest.conclusive() ? "" : ", which disagreed with each other",
            m.reason()),
        o.relativePath(),
        -1);
  }

  /**
   * Reads {@code file} back in one sequential pass, comparing each block's CRC32C with the one
   * computed from the bytes received and the whole file with the source's checksum: the tail of a
   * file without blocks (an empty file), whose checksum no block read-back covers.
   */
  void verifyFile(StagedFile file) throws IOException {
    RemoteObject o = file.object();
    long t0 = System.nanoTime();
    checkLength(file);
    ManifestFile mf = new ManifestFile(
        o.relativePath(), o.key(), o.sizeBytes(), null, null, o.checksum(), file.crcs());
    try (FileChannel ch = FileChannel.open(file.target(), StandardOpenOption.READ)) {
      throwIfMismatch(FileVerifier.checkMapped(ch, mf, file.blockBytes()));
    } catch (InternalError e) {
      throw shrankWhileMapped(file, 0, e);
    }
    file.verified(o.checksum());
    verifyNanos.addAndGet(System.nanoTime() - t0);
  }

  /**
   * Reads block {@code block} of {@code file} back, just after it was written, and compares its
   * CRC32C with the one received; for a file with a {@link StagedFile#perBlockCheck}, also records
   * the block's digest as its part's, and checks the file against the source after the last one.
   */
  private void verifyBlock(StagedFile file, int block) throws IOException {
    long t0 = System.nanoTime();
    MultipartEtag.PerBlock check = file.perBlockCheck();
    MultipartEtag.PartHash hash = check == null ? null : check.partHash();
    try (Reads reads = open(file)) {
      readBackBlock(reads, file, block, hash == null ? null : hash::update);
    } catch (InternalError e) {
      throw shrankWhileMapped(file, file.blockOffset(block), e);
    }
    verifyNanos.addAndGet(System.nanoTime() - t0);
    stream.verified(file, block);
    if (hash != null && check.record(block, hash.finish())) {
      finishSourceCheck(file, check);
    }
  }

  /** A staging file opened for its read-back, with O_DIRECT or for mapped reads. */
  private record Reads(FileChannel channel, boolean direct) implements AutoCloseable {
    @Override
    public void close() throws IOException {
      channel.close();
    }
  }

  /**
   * Opens {@code file} for its read-back: with O_DIRECT while blocks are written so, their offsets
   * are aligned, the file system's block size fits {@link DirectIo#ALIGNMENT} and direct memory has
   * room for this thread's read buffer; otherwise, and for good once a direct open was refused, for
   * reads through a mapping. A streamed file is always read back through the mapping: its reader
   * reads each block right after, and the page cache the read-back fills serves that read, where
   * O_DIRECT would read every byte from the disk twice (on the project's VM a 1 GiB read-through
   * was then bound by the disk: 4.46 s against 4.12 s through the page cache, median of five).
   */
  private Reads open(StagedFile file) throws IOException {
    if (directReads
        && !stream.isStreamed(file)
        && writesDirect.getAsBoolean()
        && file.blockBytes() % DirectIo.ALIGNMENT == 0
        && DirectReads.bufferAvailable()) {
      try {
        if (blockSizeFits(file)) {
          return new Reads(DirectReads.open(file.target()), true);
        }
      } catch (FileSystemException | UnsupportedOperationException e) {
        refuseDirectReads(file, e.toString());
      }
    }
    return new Reads(FileChannel.open(file.target(), StandardOpenOption.READ), false);
  }

  /**
   * Whether the staging file system's block size divides {@link DirectIo#ALIGNMENT}; asked once
   * per download, since finding a file's store reads the mount table, which on a node with many
   * mounts costs more than the read of a block.
   */
  private boolean blockSizeFits(StagedFile file) throws IOException {
    Boolean fits = blockSizeFits;
    if (fits == null) {
      long block = Files.getFileStore(file.target()).getBlockSize();
      fits = block > 0 && DirectIo.ALIGNMENT % block == 0;
      blockSizeFits = fits;
      if (!fits) {
        refuseDirectReads(file, "its file system's block size is " + block + " bytes");
      }
    }
    return fits;
  }

  private void refuseDirectReads(StagedFile file, String why) {
    if (directReads) {
      directReads = false;
      LOG.log(
          Level.DEBUG,
          () -> "reading back " + source + " through the page cache: O_DIRECT reads of "
              + file.target() + " are not possible (" + why + ")");
    }
  }

  /**
   * Reads block {@code block} of {@code file} back, compares its CRC32C with the one received, and
   * feeds it to {@code digest} when given. The block is read in chunks into a buffer of this
   * thread: with O_DIRECT straight from the disk ({@link DirectReads}), or out of the page cache
   * through a mapping ({@link MappedReads}); either way it takes no transfer buffer and a page
   * that cannot be read fails this download instead of the JVM.
   */
  private void readBackBlock(Reads reads, StagedFile file, int block, Consumer<ByteBuffer> digest)
      throws IOException {
    FileChannel ch = reads.channel();
    long offset = file.blockOffset(block);
    long len = file.blockLength(block);
    long size = ch.size();
    if (size < offset + len) {
      throw new IntegrityException(
          String.format(
              Locale.ROOT,
              "staging file %s ends at offset %d, before block %d",
              file.target(),
              size,
              block),
          file.path(),
          size);
    }
    CRC32C crc = new CRC32C();
    MappedReads.ChunkSink check = chunk -> {
      if (digest != null) {
        digest.accept(chunk.duplicate());
      }
      crc.update(chunk);
    };
    try {
      if (reads.direct()) {
        DirectReads.read(ch, offset, len, check);
      } else {
        MappedReads.read(ch, offset, len, check);
      }
    } catch (ClosedChannelException | InterruptedIOException e) {
      throw e; // the download was stopped: nothing to say about the file
    } catch (IOException e) {
      throw new IOException(
          String.format(
              Locale.ROOT,
              "reading back block %d of %s (offset %d) failed: %s",
              block,
              file.target(),
              offset,
              e.getMessage()),
          e);
    }
    bytesReadBack.addAndGet(len);
    int value = (int) crc.getValue();
    int received = file.crc(block);
    if (value != received) {
      throwIfMismatch(new VerificationResult.Mismatch(
          file.path(),
          offset,
          String.format(
              Locale.ROOT,
              "CRC32C of block %d is %08x on disk, %08x as received",
              block,
              value,
              received)));
    }
  }

  /** Fails unless {@code file} has its listed length on disk. */
  void checkLength(StagedFile file) throws IOException {
    RemoteObject o = file.object();
    long onDisk = Files.size(file.target());
    if (onDisk != o.sizeBytes()) {
      throw new IntegrityException(
          String.format(
              Locale.ROOT,
              "%s of %s is %d bytes on disk, expected %d",
              o.relativePath(),
              source,
              onDisk,
              o.sizeBytes()),
          o.relativePath(),
          onDisk);
    }
  }

  /**
   * A mapped read past the end of a file that something else truncated faults, which the JDK
   * reports as an InternalError: it is this download's integrity failure, not the JVM's.
   */
  private static IntegrityException shrankWhileMapped(
      StagedFile file, long offset, InternalError cause) {
    IntegrityException e = new IntegrityException(
        String.format(
            Locale.ROOT,
            "staging file %s could not be read back from offset %d (truncated by another process?): %s",
            file.target(),
            offset,
            cause.getMessage()),
        file.path(),
        offset);
    e.initCause(cause);
    return e;
  }

  private void throwIfMismatch(VerificationResult.Mismatch m) throws IntegrityException {
    if (m != null) {
      throw new IntegrityException(
          String.format(
              Locale.ROOT,
              "%s of %s does not match what was downloaded at offset %d: %s",
              m.path(),
              source,
              m.offsetBytes(),
              m.reason()),
          m.path(),
          m.offsetBytes());
    }
  }
}
