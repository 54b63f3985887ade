package dev.modelcache.core;

import dev.modelcache.core.spi.ObjectKeys;
import dev.modelcache.core.spi.RemoteObject;
import dev.modelcache.core.spi.SourceChecksum;
import dev.modelcache.core.spi.StorageBackend;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.Arena;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32C;

/**
 * One download of one model by this process: list, stage (adopting an interrupted download's
 * staging directory when its writer is dead), make room, preallocate, fetch ranges under the
 * cache's global concurrency limit, verify, fsync, commit by rename.
 *
 * <p>Crash safety rests on ordering: a range's bytes are written before its journal record; the
 * manifest is written after every file is verified and fsynced; the rename comes last. Whatever
 * point a crash hits, {@code entries/} holds only complete entries.
 *
 * <p>Ranges are queued in {@value #WRITE_STREAMS} streams over the files laid end to end (see
 * {@link FetchOrder}), so the transfer threads write into several files at once while within each
 * stream files complete one after another. Whole, aligned blocks are written with O_DIRECT when
 * the cache allows it and the file system does (see {@link #writeDirect}), the rest through the
 * page cache. Verification and fsync run on this download's two tail threads while later ranges
 * are still fetched: each block is read back and its CRC32C compared with the one computed from
 * the bytes received as soon as it is written, or, for a file whose source gave a whole-file
 * checksum, the file is read back in one sequential pass once it is complete; each file is fsynced
 * once complete. Only the last blocks' and last files' tails, the manifest, the directory fsyncs
 * and the rename are left after the last byte arrives. The commit waits for every tail to succeed,
 * and a tail failure stops the fetch and fails the download like any other integrity or write
 * failure.
 *
 * <p>A file whose bytes do not match what the source vouches for (see {@link #finishSourceCheck})
 * is not a failure at once: its tail asks for it to be fetched again, and {@link #download} runs
 * another round of the fetch for such files once every tail of the round is done, up to the
 * cache's {@code maxAttempts} fetches of a file.
 */
final class DownloadJob {

  private static final System.Logger LOG = System.getLogger(DownloadJob.class.getName());
  private static final long PROGRESS_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
  /**
   * Threads that verify and fsync completed files beside the fetch: one can read back and
   * checksum while the other waits for the disk in fsync.
   */
  private static final int TAIL_THREADS = 2;
  /** Files written at once; see {@link FetchOrder}. */
  static final int WRITE_STREAMS = 4;

  private final DownloadHost cache;
  private final DownloadSettings settings;
  private final CacheLayout layout;
  private final HolderFiles holders;
  private final ModelSource source;
  private final String name;
  private final ListenerFanout fanout;
  private final String writerId;
  private final long blockBytes;

  private List<RemoteObject> objects;
  private Manifest draft;
  private Staging staging;
  private LocalWriteFailures failures;
  private int[][] crcs;
  private BitSet[] done;
  private AtomicInteger[] blocksLeft;
  private Object[] writeLocks;
  /** Per file whose source gave a whole-file checksum (and that has blocks): its in-order read-back. */
  private OrderedReadBack[] ordered;
  /** Per file: the source checksum its bytes matched (null until then, or for ever if unverifiable). */
  private SourceChecksum[] verified;
  /** Per file: why it could not be verified against the source, once that is known; else null. */
  private String[] unverifiedBecause;
  /** Per file: how many times it was fetched (a file whose source checksum failed is fetched again). */
  private int[] fetchAttempts;
  /** Per file: what its last inconclusive check computed, to tell an untried part size from corruption. */
  private String[] lastComputed;
  /** Files whose source checksum failed and that are to be fetched again, after the tails of this round. */
  private final java.util.Queue<Integer> refetch = new java.util.concurrent.ConcurrentLinkedQueue<>();
  /** Whether whole aligned blocks are written with O_DIRECT; off once the file system refuses. */
  private volatile boolean directWrites;
  private long bytesTotal;
  private int[] blockCounts;
  private final AtomicLong bytesDone = new AtomicLong();
  private final AtomicLong bytesWrittenDirect = new AtomicLong();
  private long bytesResumed;
  private final DownloadFailure failure;
  private RangeFetcher fetcher;
  private final AtomicLong lastProgressNanos = new AtomicLong();
  private long startNanos;
  /** Runs verify + fsync of completed files beside the fetch. */
  private java.util.concurrent.ExecutorService tailPool;
  private java.util.concurrent.atomic.AtomicIntegerArray tailStarted;
  private final java.util.Queue<Future<?>> tails = new java.util.concurrent.ConcurrentLinkedQueue<>();
  private final AtomicLong tailVerifyNanos = new AtomicLong();
  private final AtomicLong tailSyncNanos = new AtomicLong();

  DownloadJob(DownloadHost cache, ModelSource source, ListenerFanout fanout) {
    this.cache = cache;
    this.settings = cache.settings();
    this.layout = cache.layout();
    this.holders = cache.holders();
    this.source = source;
    this.name = source.cacheName();
    this.fanout = fanout;
    this.writerId = cache.newWriterId();
    this.blockBytes = settings.partSizeBytes();
    this.directWrites = settings.directWrites();
    this.failure = new DownloadFailure(source);
  }

  CacheEntry run() throws IOException {
    StorageBackend backend = cache.backendFor(source);
    fetcher = new RangeFetcher(source, backend, cache, failure);
    objects = checkListing(backend.list(source.uri()));
    List<ManifestFile> files = new ArrayList<>(objects.size());
    for (RemoteObject o : objects) {
      files.add(new ManifestFile(o.relativePath(), o.key(), o.sizeBytes(), o.etag(), o.versionId(),
          o.checksum(), new int[0]));
      bytesTotal += o.sizeBytes();
    }
    draft = new Manifest(source, blockBytes, Instant.now(), files);
    blockCounts = new int[objects.size()];
    for (int i = 0; i < blockCounts.length; i++) {
      blockCounts[i] = blockCount(objects.get(i).sizeBytes());
    }
    startNanos = System.nanoTime();
    fanout.started(source, bytesTotal);
    try {
      CacheEntry entry = download(backend);
      fanout.progress(bytesTotal, bytesTotal, rate());
      fanout.completed(entry, new DownloadSummary(source, bytesTotal, fetcher.bytesFetched(), bytesResumed,
          bytesWrittenDirect.get(), Duration.ofNanos(System.nanoTime() - startNanos)));
      return entry;
    } catch (IOException | RuntimeException | Error e) {
      fanout.failed(e instanceof Exception ex ? ex : new IOException(e));
      throw e;
    }
  }

  private CacheEntry download(StorageBackend backend) throws IOException {
    failures = new LocalWriteFailures(source, cache::usableBytes, bytesTotal, () -> bytesTotal - bytesDone.get());
    staging = Staging.open(layout, holders, writerId, draft, blockCounts, failures);
    List<Journal.Entry> journaled = staging.journaled();
    boolean discard = true;
    Journal journal = null;
    try {
      int n = objects.size();
      crcs = new int[n][];
      done = new BitSet[n];
      blocksLeft = new AtomicInteger[n];
      writeLocks = new Object[n];
      ordered = new OrderedReadBack[n];
      verified = new SourceChecksum[n];
      unverifiedBecause = new String[n];
      fetchAttempts = new int[n];
      lastComputed = new String[n];
      tailStarted = new java.util.concurrent.atomic.AtomicIntegerArray(n);
      tailPool = Executors.newFixedThreadPool(TAIL_THREADS, r -> {
        Thread t = new Thread(r, "modelcache-verify-" + name);
        t.setDaemon(true);
        return t;
      });
      for (int i = 0; i < n; i++) {
        int blocks = blockCounts[i];
        crcs[i] = new int[blocks];
        done[i] = new BitSet(blocks);
        blocksLeft[i] = new AtomicInteger(blocks);
        writeLocks[i] = new Object();
        fetchAttempts[i] = 1;
        ordered[i] = newReadBack(i);
      }
      checkVerifiable();
      long journaledBytes = 0;
      Set<Long> seen = new HashSet<>();
      for (Journal.Entry e : journaled) {
        if (e.fileIndex() < n && e.blockIndex() < crcs[e.fileIndex()].length
            && seen.add(((long) e.fileIndex() << 32) | e.blockIndex())) {
          journaledBytes += blockLength(e.fileIndex(), e.blockIndex());
        }
      }
      long t0 = System.nanoTime();
      try (FileLocks.Held space = cache.spaceLock()) {
        cache.makeRoom(bytesTotal - journaledBytes, name, source);
        staging.preallocate(objects);
        // From here on every other download counts this one against the limits (an empty file:
        // it needs no block of a disk the preallocation may have filled to its floor).
        staging.markReserved();
      }
      long t1 = System.nanoTime();
      if (!journaled.isEmpty()) {
        bytesResumed = recheckJournaled(journaled);
        bytesDone.set(bytesResumed);
        LOG.log(Level.DEBUG, () -> "resuming " + source + ": " + bytesResumed + " of " + bytesTotal
            + " bytes kept from an interrupted download");
      }
      for (int i = 0; i < n; i++) {
        if (blocksLeft[i].get() == 0) {
          fanout.fileCompleted(objects.get(i).relativePath(), objects.get(i).sizeBytes());
          startTail(i);
        }
      }
      journal = staging.openJournal();
      long t2 = System.nanoTime();
      long lastFetchEnd;
      while (true) {
        fetchMissing(backend, journal);
        lastFetchEnd = System.nanoTime();
        awaitTails();
        if (refetch.isEmpty()) {
          break;
        }
        // Files whose source checksum failed: fetched again, once every tail of this round is done.
        for (Integer fi; (fi = refetch.poll()) != null; ) {
          resetFile(fi);
        }
      }
      journal.close();
      journal = null;
      checkReadBacksComplete();
      reportUnverified();
      long t3 = lastFetchEnd;
      long t4 = System.nanoTime();
      CacheEntry entry = commit();
      long t5 = System.nanoTime();
      LOG.log(Level.DEBUG, () -> String.format(Locale.ROOT,
          "%s: room+preallocate %d ms, resume check %d ms, fetch %d ms, verify+fsync left after fetch %d ms,"
              + " commit %d ms; per-file verify %d ms and fsync %d ms in all, overlapped with the fetch",
          source, (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000, (t3 - t2) / 1_000_000, (t4 - t3) / 1_000_000,
          (t5 - t4) / 1_000_000, tailVerifyNanos.get() / 1_000_000, tailSyncNanos.get() / 1_000_000));
      return entry;
    } catch (IOException | RuntimeException | Error e) {
      discard = !(e instanceof InterruptedIOException)
          && !(e instanceof StorageException se && se.retryable())
          && (e instanceof StorageException || e instanceof IntegrityException
              || e instanceof InsufficientSpaceException || e instanceof CacheWriteException);
      throw e;
    } finally {
      if (journal != null) {
        closeQuietly(journal);
      }
      stopTails();
      staging.close(discard);
    }
  }

  /** Sorts, validates and checks the listing for collisions. */
  private List<RemoteObject> checkListing(List<RemoteObject> listed) throws IOException {
    if (listed.isEmpty()) {
      throw new SourceNotFoundException("source " + source + " holds no objects");
    }
    List<RemoteObject> sorted = new ArrayList<>(listed);
    sorted.sort(Comparator.comparing(RemoteObject::relativePath));
    Set<String> paths = new HashSet<>();
    for (RemoteObject o : sorted) {
      ObjectKeys.validate(o.key(), o.relativePath());
      if (!paths.add(o.relativePath())) {
        throw new InvalidObjectKeyException(o.key(), "its path '" + o.relativePath() + "' is listed twice");
      }
    }
    for (RemoteObject o : sorted) {
      String p = o.relativePath();
      for (int slash = p.indexOf('/'); slash > 0; slash = p.indexOf('/', slash + 1)) {
        if (paths.contains(p.substring(0, slash))) {
          throw new InvalidObjectKeyException(o.key(),
              "'" + p.substring(0, slash) + "' is both a file and a directory in the listing");
        }
      }
    }
    return sorted;
  }

  private Path target(int fileIndex) throws IOException {
    return staging.target(objects.get(fileIndex));
  }

  /**
   * Opens a staging file for one operation. Channels are not kept open across ranges: a model
   * may have more files than the process may hold open, and an interrupt then closes only the
   * interrupted operation's channel.
   */
  private FileChannel channel(int fileIndex, StandardOpenOption mode) throws IOException {
    return FileChannel.open(target(fileIndex), mode);
  }

  /**
   * Writes a whole, aligned block with O_DIRECT: from the transfer buffer straight to the disk,
   * without the kernel's copy into the page cache (the largest single CPU cost of a download) and
   * without dirty pages for fsync to wait on. Returns false, leaving {@code buf} untouched, when
   * the block is not aligned (a file's last, partial block; a part size that is not a multiple of
   * 4 KiB), when direct writes are off, or when the file system refuses them; a refusal turns
   * them off for the rest of this download, which then writes through the page cache. Other
   * failures (a full disk, an I/O error) are the write's failures.
   */
  private boolean writeDirect(int fi, ByteBuffer buf, long offset) throws IOException {
    if (!directWrites || !DirectIo.aligned(buf, offset)) {
      return false;
    }
    int len = buf.remaining();
    int start = buf.position();
    FileChannel ch;
    try {
      ch = settings.directOpener().open(target(fi));
    } catch (UnsupportedOperationException | IOException e) {
      refuseDirect(e);
      return false;
    }
    try (ch) {
      writeLocked(fi, ch, buf, offset);
      bytesWrittenDirect.addAndGet(len);
      return true;
    } catch (IOException e) {
      if (buf.position() == start && DirectIo.isRefusal(e)) {
        // The file system opened the file for O_DIRECT but will not write this way (EINVAL).
        buf.limit(start + len);
        refuseDirect(e);
        return false;
      }
      throw failures.writeFailure(target(fi), offset + buf.position() - start, buf.remaining(), e);
    }
  }

  /**
   * Writes all of {@code buf} at {@code offset} of file {@code fi}. One writer per file at a time:
   * the kernel serializes writes to one file anyway, and threads waiting here park instead of
   * spinning on the inode lock for CPU the transfer needs.
   */
  private void writeLocked(int fi, FileChannel ch, ByteBuffer buf, long offset) throws IOException {
    int start = buf.position();
    synchronized (writeLocks[fi]) {
      while (buf.hasRemaining()) {
        ch.write(buf, offset + buf.position() - start);
      }
    }
  }

  private void refuseDirect(Exception e) {
    if (directWrites) {
      directWrites = false;
      LOG.log(Level.INFO, () -> "writing " + source + " through the page cache: the file system refused O_DIRECT ("
          + e.getMessage() + ")");
    }
  }

  /** Re-reads journaled blocks; keeps those whose CRC32C still matches. Returns bytes kept. */
  private long recheckJournaled(List<Journal.Entry> journaled) throws IOException {
    List<Future<?>> futures = new ArrayList<>();
    AtomicLong kept = new AtomicLong();
    Set<Long> seen = new HashSet<>();
    for (Journal.Entry e : journaled) {
      int fi = e.fileIndex();
      int bi = e.blockIndex();
      if (fi >= objects.size() || bi >= crcs[fi].length || !seen.add(((long) fi << 32) | bi)) {
        continue;
      }
      futures.add(submit(() -> {
        ByteBuffer buf = takeBuffer();
        try {
          long len = blockLength(fi, bi);
          buf.limit((int) len);
          try (FileChannel ch = channel(fi, StandardOpenOption.READ)) {
            readFully(ch, buf, (long) bi * blockBytes, target(fi));
          }
          buf.flip();
          CRC32C crc = new CRC32C();
          crc.update(buf);
          if ((int) crc.getValue() == e.crc32c()) {
            markDone(fi, bi, e.crc32c(), len);
            kept.addAndGet(len);
            advanceReadBack(fi); // a whole-file digest needs the kept blocks' bytes too
          }
        } finally {
          cache.buffers().give(buf);
        }
        return null;
      }));
    }
    awaitAll(futures);
    return kept.get();
  }

  private void fetchMissing(StorageBackend backend, Journal journal) throws IOException {
    List<Future<?>> futures = new ArrayList<>();
    long[] sizes = new long[objects.size()];
    boolean[] inOrder = new boolean[sizes.length];
    for (int i = 0; i < sizes.length; i++) {
      sizes[i] = objects.get(i).sizeBytes();
      inOrder[i] = ordered[i] != null;
    }
    for (long block : FetchOrder.of(sizes, inOrder, blockBytes, WRITE_STREAMS)) {
      int f = FetchOrder.fileOf(block);
      int b = FetchOrder.blockOf(block);
      if (isDone(f, b)) {
        continue;
      }
      futures.add(submit(() -> {
        if (!failure.isSet()) {
          fetchBlock(backend, journal, f, b);
        }
        return null;
      }));
    }
    awaitAll(futures);
  }

  private void fetchBlock(StorageBackend backend, Journal journal, int fi, int bi) throws IOException {
    awaitReadBack(fi, bi);
    RemoteObject object = objects.get(fi);
    long offset = (long) bi * blockBytes;
    long len = blockLength(fi, bi);
    ByteBuffer buf = takeBuffer();
    try {
      buf.clear().limit((int) len);
      if (!fetcher.read(object, offset, buf)) {
        return;
      }
      buf.flip();
      CRC32C crc = new CRC32C();
      crc.update(buf.duplicate());
      int value = (int) crc.getValue();
      if (!writeDirect(fi, buf, offset)) {
        try (FileChannel ch = channel(fi, StandardOpenOption.WRITE)) {
          writeLocked(fi, ch, buf, offset);
        } catch (IOException e) {
          throw failures.writeFailure(target(fi), offset + buf.position(), buf.remaining(), e);
        }
      }
      try {
        journal.record(fi, bi, value);
      } catch (IOException e) {
        throw failures.writeFailure(staging.journalFile(), -1, Journal.SLOT_BYTES, e);
      }
      markDone(fi, bi, value, len);
      if (verifiedPerBlock(fi)) {
        tailTask(() -> verifyBlock(fi, bi));
      } else {
        advanceReadBack(fi);
      }
    } finally {
      cache.buffers().give(buf);
    }
  }

  private void markDone(int fi, int bi, int crc, long len) {
    synchronized (done[fi]) {
      if (done[fi].get(bi)) {
        return;
      }
      done[fi].set(bi);
      crcs[fi][bi] = crc;
    }
    long now = bytesDone.addAndGet(len);
    if (blocksLeft[fi].decrementAndGet() == 0) {
      fanout.fileCompleted(objects.get(fi).relativePath(), objects.get(fi).sizeBytes());
      startTail(fi);
    }
    long t = System.nanoTime();
    long last = lastProgressNanos.get();
    if (t - last >= PROGRESS_INTERVAL_NANOS && lastProgressNanos.compareAndSet(last, t)) {
      fanout.progress(now, bytesTotal, rate());
    }
  }

  /**
   * Whether file {@code fi}'s blocks are read back one by one, each as soon as it is written: true
   * unless the source gave a whole-file checksum, whose digest needs the bytes in order (such a
   * file is read back in order instead, as far as its blocks are written: {@link
   * #advanceReadBack}). Reading back early spreads the verification over the fetch, so little of
   * it is left after the last byte, which matters most when blocks were written with O_DIRECT and
   * the read-back comes from the disk.
   */
  private boolean verifiedPerBlock(int fi) {
    return ordered[fi] == null && crcs[fi].length > 0;
  }

  /**
   * Queues file {@code fi}'s tail work once all its blocks are written (or were kept on resume):
   * its fsync, and a check of its length (its blocks were read back as they were written); an
   * empty file with a source checksum gets that checksum checked here. Verification and fsync of
   * a file may run in either order or at once; the commit needs both. Idempotent: a file's tail
   * is queued once.
   */
  private void startTail(int fi) {
    if (!tailStarted.compareAndSet(fi, 0, 1)) {
      return;
    }
    tailTask(() -> syncFile(fi));
    if (crcs[fi].length == 0) {
      tailTask(() -> verifyFile(fi));
    } else {
      tailTask(() -> checkLength(fi));
    }
  }

  /**
   * The in-order read-back of a file whose source gave a whole-file checksum: blocks are read
   * back, CRC32C-checked and fed to the digest as soon as they and every block before them are
   * written, by one tail thread at a time; the last block's reader compares the digest with the
   * source's.
   */
  private static final class OrderedReadBack {
    final FileVerifier.SourceDigest digest;
    /** The next block to read back; guarded by this. */
    int next;
    /** Whether a tail task is reading blocks back; guarded by this. */
    boolean running;

    OrderedReadBack(FileVerifier.SourceDigest digest) {
      this.digest = digest;
    }
  }

  /**
   * File {@code fi}'s in-order read-back, or null: a file without blocks, without a source
   * checksum, or whose multipart ETag fits no part size (it stays unverified, and says why).
   */
  private OrderedReadBack newReadBack(int fi) {
    RemoteObject o = objects.get(fi);
    SourceChecksum checksum = o.checksum();
    if (checksum == null || blockCounts[fi] == 0) {
      return null;
    }
    if (checksum.isMultipart()
        && MultipartEtag.partSizes(o.sizeBytes(), checksum.parts(), checksum.partSizeBytes()).isEmpty()) {
      unverifiedBecause[fi] = "its " + checksum + " names " + checksum.parts()
          + " parts, which no part size gives for " + o.sizeBytes() + " bytes";
      return null;
    }
    return new OrderedReadBack(FileVerifier.SourceDigest.of(checksum, o.sizeBytes()));
  }

  /**
   * Once all of file {@code fi} was fed to {@code digest}: records the checksum it matched; or, on
   * a mismatch, has the file fetched again while attempts remain, and fails the download when
   * they are spent. An inconclusive mismatch (a multipart ETag whose part size was inferred) that
   * two fetches in a row computed alike means the bytes are what the store holds and the part
   * size is one not tried: the file is recorded as unverified. One that changed between fetches
   * is corruption on the way, fetched again like a conclusive one.
   */
  private void finishSourceCheck(int fi, FileVerifier.SourceDigest digest) throws IntegrityException {
    RemoteObject o = objects.get(fi);
    VerificationResult.Mismatch m = digest.mismatch(new ManifestFile(o.relativePath(), o.key(), o.sizeBytes(),
        o.etag(), o.versionId(), o.checksum(), crcs[fi]));
    if (m == null) {
      verified[fi] = digest.verified();
      return;
    }
    int attempt = fetchAttempts[fi];
    String computed = digest.computed();
    String previous = lastComputed[fi];
    lastComputed[fi] = computed;
    if (!digest.conclusive() && computed.equals(previous)) {
      // Two fetches gave the same bytes: the upload's part size is one the cache did not try.
      unverifiedBecause[fi] = m.reason() + ", the same in two fetches";
      return;
    }
    if (attempt < settings.maxAttempts()) {
      LOG.log(Level.WARNING, String.format(Locale.ROOT,
          "%s of %s does not match the source (%s); fetching it again (fetch %d of at most %d)", o.relativePath(),
          source, m.reason(), attempt + 1, settings.maxAttempts()));
      refetch.add(fi);
      return;
    }
    throw new IntegrityException(String.format(Locale.ROOT,
        "%s of %s does not match the source after %d fetches%s: %s; nothing was committed", o.relativePath(), source,
        attempt, digest.conclusive() ? "" : ", which disagreed with each other", m.reason()), o.relativePath(), -1);
  }

  /** Forgets what was fetched of file {@code fi}, so that the next round fetches all of it again. */
  private void resetFile(int fi) {
    fetchAttempts[fi]++;
    synchronized (done[fi]) {
      done[fi].clear();
      Arrays.fill(crcs[fi], 0);
    }
    bytesDone.addAndGet(-objects.get(fi).sizeBytes());
    blocksLeft[fi].set(blockCounts[fi]);
    tailStarted.set(fi, 0);
    verified[fi] = null;
    ordered[fi] = newReadBack(fi);
  }

  /**
   * Under {@link ModelCache.Builder#requireSourceVerification}, fails before anything is fetched if
   * a file cannot be verified against the source: the store offers no checksum for it, or its
   * multipart ETag fits no part size.
   */
  private void checkVerifiable() throws IntegrityException {
    if (!settings.requireSourceVerification()) {
      return;
    }
    List<String> refused = new ArrayList<>();
    for (int i = 0; i < objects.size(); i++) {
      if (ordered[i] == null && (objects.get(i).checksum() == null || unverifiedBecause[i] != null)) {
        refused.add(unverifiable(i));
      }
    }
    if (!refused.isEmpty()) {
      throw new IntegrityException("cannot verify every file of " + source + " against the source, as"
          + " requireSourceVerification (--require-verified) demands: " + String.join("; ", refused)
          + "; nothing was fetched", objects.get(0).relativePath(), -1);
    }
  }

  /** "model.safetensors: the store offers no checksum for it (ETag 'abc')". */
  private String unverifiable(int fi) {
    RemoteObject o = objects.get(fi);
    String why = unverifiedBecause[fi] != null ? unverifiedBecause[fi]
        : "the store offers no checksum for it (" + (o.etag() == null ? "no ETag" : "ETag '" + o.etag() + "'") + ")";
    return o.relativePath() + ": " + why;
  }

  /**
   * After the fetch: fails under {@link ModelCache.Builder#requireSourceVerification} if a file
   * could not be verified, else says once which files are committed unverified.
   */
  private void reportUnverified() throws IntegrityException {
    List<String> unverifiedFiles = new ArrayList<>();
    boolean anyOffered = false;
    for (int i = 0; i < objects.size(); i++) {
      anyOffered |= objects.get(i).checksum() != null;
      if (verified[i] == null) {
        unverifiedFiles.add(unverifiable(i));
      }
    }
    if (unverifiedFiles.isEmpty()) {
      return;
    }
    if (settings.requireSourceVerification()) {
      throw new IntegrityException("cannot verify every file of " + source + " against the source, as"
          + " requireSourceVerification (--require-verified) demands: " + String.join("; ", unverifiedFiles)
          + "; nothing was committed", unverifiedFiles.getFirst().substring(0, unverifiedFiles.getFirst().indexOf(':')), -1);
    }
    // A file: source offers no checksums at all: that is its nature, not news.
    Level level = anyOffered || !"file".equals(source.scheme()) ? Level.WARNING : Level.DEBUG;
    LOG.log(level, () -> unverifiedFiles.size() + " of " + objects.size() + " files of " + source
        + " are committed without a check against the source (their bytes are checked only against what was"
        + " received): " + String.join("; ", unverifiedFiles));
  }

  /**
   * Holds the fetch of block {@code bi} of a file read back in order while that read-back lags
   * more than {@code 2 x concurrency} blocks behind, so that the digest, which one thread computes,
   * gets CPU during the fetch instead of being left to run alone after the last byte. No deadlock:
   * the block the read-back waits for was queued before every block held here.
   */
  private void awaitReadBack(int fi, int bi) throws InterruptedIOException {
    OrderedReadBack rb = ordered[fi];
    if (rb == null) {
      return;
    }
    int lag = 2 * settings.concurrency();
    synchronized (rb) {
      while (bi - rb.next > lag && rb.running && !failure.isSet()) {
        try {
          rb.wait(100);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new InterruptedIOException("interrupted waiting for the read-back of " + objects.get(fi).relativePath());
        }
      }
    }
  }

  /** Fails if a file read back in order was not read back to its end: a bug, never a commit. */
  private void checkReadBacksComplete() {
    for (int i = 0; i < ordered.length; i++) {
      if (ordered[i] != null) {
        synchronized (ordered[i]) {
          if (ordered[i].next != crcs[i].length) {
            throw new IllegalStateException(String.format(Locale.ROOT, "%s: read back %d of %d blocks before the commit",
                objects.get(i).relativePath(), ordered[i].next, crcs[i].length));
          }
        }
      }
    }
  }

  /** Starts file {@code fi}'s in-order read-back, unless it is running or the next block is not written yet. */
  private void advanceReadBack(int fi) {
    OrderedReadBack rb = ordered[fi];
    if (rb == null) {
      return;
    }
    synchronized (rb) {
      if (rb.running || rb.next == crcs[fi].length || !isDone(fi, rb.next)) {
        return;
      }
      rb.running = true;
    }
    tailTask(() -> readBackInOrder(fi));
  }

  private boolean isDone(int fi, int bi) {
    synchronized (done[fi]) {
      return done[fi].get(bi);
    }
  }

  /**
   * Reads file {@code fi}'s blocks back in order while they are written; stops at the first one
   * that is not (its writer calls {@link #advanceReadBack} again). The check for a written block
   * and the decision to stop are made under the same lock that {@link #advanceReadBack} takes
   * after a block is marked done, so no written block is left unread.
   */
  private void readBackInOrder(int fi) throws IOException {
    long t0 = System.nanoTime();
    OrderedReadBack rb = ordered[fi];
    int blocks = crcs[fi].length;
    try (FileChannel ch = channel(fi, StandardOpenOption.READ)) {
      while (true) {
        int bi;
        synchronized (rb) {
          if (rb.next == blocks || !isDone(fi, rb.next)) {
            rb.running = false;
            rb.notifyAll(); // fetches held by awaitReadBack go on
            return;
          }
          bi = rb.next;
        }
        readBackBlock(ch, fi, bi, rb.digest);
        if (bi == blocks - 1) {
          finishSourceCheck(fi, rb.digest);
        }
        synchronized (rb) {
          rb.next++;
          rb.notifyAll();
        }
      }
    } catch (InternalError e) {
      throw shrankWhileMapped(fi, (long) rb.next * blockBytes, e);
    } finally {
      tailVerifyNanos.addAndGet(System.nanoTime() - t0);
    }
  }

  private interface TailStep {
    void run() throws IOException;
  }

  private void tailTask(TailStep step) {
    try {
      tails.add(tailPool.submit(() -> {
        if (!failure.isSet()) {
          try {
            step.run();
          } catch (IOException e) {
            // Stop the fetch of the other files at once: the download cannot commit.
            failure.record(e);
            throw e;
          } catch (RuntimeException e) {
            failure.recordUnexpected(e);
            throw e;
          }
        }
        return null;
      }));
    } catch (java.util.concurrent.RejectedExecutionException e) {
      failure.recordStopped("");
    }
  }

  /**
   * Reads file {@code fi} back in one sequential pass, comparing each block's CRC32C with the one
   * computed from the bytes received and the whole file with the source's checksum: the tail of a
   * file without blocks (an empty file), whose checksum no block read-back covers.
   */
  private void verifyFile(int fi) throws IOException {
    RemoteObject o = objects.get(fi);
    long t0 = System.nanoTime();
    checkLength(fi);
    ManifestFile mf = new ManifestFile(o.relativePath(), o.key(), o.sizeBytes(), null, null, o.checksum(), crcs[fi]);
    try (FileChannel ch = channel(fi, StandardOpenOption.READ)) {
      throwIfMismatch(FileVerifier.checkMapped(ch, mf, blockBytes));
    } catch (InternalError e) {
      throw shrankWhileMapped(fi, 0, e);
    }
    verified[fi] = o.checksum();
    tailVerifyNanos.addAndGet(System.nanoTime() - t0);
  }

  /**
   * Reads block {@code bi} of file {@code fi} back, just after it was written, and compares its
   * CRC32C with the one received.
   */
  private void verifyBlock(int fi, int bi) throws IOException {
    long t0 = System.nanoTime();
    try (FileChannel ch = channel(fi, StandardOpenOption.READ)) {
      readBackBlock(ch, fi, bi, null);
    } catch (InternalError e) {
      throw shrankWhileMapped(fi, (long) bi * blockBytes, e);
    }
    tailVerifyNanos.addAndGet(System.nanoTime() - t0);
  }

  /**
   * Reads block {@code bi} of file {@code fi} back through {@code ch}, compares its CRC32C with the
   * one received, and feeds it to {@code digest} when given. The block is mapped, not copied: the
   * checksums read the page cache in place (filled from the disk when the block was written with
   * O_DIRECT), and the mapping is released before this returns, so it takes no transfer buffer.
   */
  private void readBackBlock(FileChannel ch, int fi, int bi, FileVerifier.SourceDigest digest) throws IOException {
    long offset = (long) bi * blockBytes;
    long len = blockLength(fi, bi);
    long size = ch.size();
    if (size < offset + len) {
      throw new IntegrityException(String.format(Locale.ROOT, "staging file %s ends at offset %d, before block %d",
          target(fi), size, bi), objects.get(fi).relativePath(), size);
    }
    int value;
    try (Arena arena = Arena.ofConfined()) {
      ByteBuffer mapped = ch.map(FileChannel.MapMode.READ_ONLY, offset, len, arena).asByteBuffer();
      if (digest != null) {
        digest.update(mapped.duplicate());
      }
      CRC32C crc = new CRC32C();
      crc.update(mapped);
      value = (int) crc.getValue();
    }
    if (value != crcs[fi][bi]) {
      throwIfMismatch(new VerificationResult.Mismatch(objects.get(fi).relativePath(), offset,
          String.format(Locale.ROOT, "CRC32C of block %d is %08x on disk, %08x as received", bi, value,
              crcs[fi][bi])));
    }
  }

  /**
   * A mapped read past the end of a file that something else truncated faults, which the JDK
   * reports as an InternalError: it is this download's integrity failure, not the JVM's.
   */
  private IntegrityException shrankWhileMapped(int fi, long offset, InternalError cause) throws IOException {
    IntegrityException e = new IntegrityException(String.format(Locale.ROOT,
        "staging file %s could not be read back from offset %d (truncated by another process?): %s",
        target(fi), offset, cause.getMessage()), objects.get(fi).relativePath(), offset);
    e.initCause(cause);
    return e;
  }

  private void checkLength(int fi) throws IOException {
    RemoteObject o = objects.get(fi);
    long onDisk = Files.size(target(fi));
    if (onDisk != o.sizeBytes()) {
      throw new IntegrityException(String.format(Locale.ROOT, "%s of %s is %d bytes on disk, expected %d",
          o.relativePath(), source, onDisk, o.sizeBytes()), o.relativePath(), onDisk);
    }
  }

  private void syncFile(int fi) throws IOException {
    long t0 = System.nanoTime();
    try (FileChannel ch = channel(fi, StandardOpenOption.WRITE)) {
      ch.force(true); // fsync is per file, so it also flushes what other descriptors wrote
    } catch (java.nio.channels.ClosedChannelException e) {
      InterruptedIOException stopped = new InterruptedIOException("download of " + source + " stopped");
      stopped.initCause(e);
      throw stopped;
    } catch (IOException e) {
      throw failures.localWriteFailure("flushing " + target(fi) + " to disk", e);
    }
    tailSyncNanos.addAndGet(System.nanoTime() - t0);
  }

  /** Waits for every file's tail work; throws the download's first failure. */
  private void awaitTails() throws IOException {
    for (int i = 0; i < objects.size(); i++) {
      if (tailStarted.get(i) == 0 && !failure.isSet()) {
        throw new IllegalStateException("file " + i + " of " + source + " was never completed");
      }
    }
    awaitAll(new ArrayList<>(tails));
  }

  /**
   * Drops tail work not yet started, cancelling its futures so that nobody waits on them, and
   * interrupts what runs: the download is stopping, and the tail threads are not the cache's.
   */
  private void cancelQueuedTails() {
    if (tailPool == null) {
      return;
    }
    for (Runnable queued : tailPool.shutdownNow()) {
      if (queued instanceof Future<?> f) {
        f.cancel(false);
      }
    }
  }

  /** Stops the tail threads and waits for them, so nothing reads the staging files after this returns. */
  private void stopTails() {
    if (tailPool == null) {
      return;
    }
    cancelQueuedTails();
    boolean interrupted = false;
    while (true) {
      try {
        if (tailPool.awaitTermination(1, TimeUnit.MINUTES)) {
          break;
        }
        LOG.log(Level.WARNING, "verification of " + source + " is slow to stop");
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private void throwIfMismatch(VerificationResult.Mismatch m) throws IntegrityException {
    if (m != null) {
      throw new IntegrityException(String.format(Locale.ROOT,
          "%s of %s does not match what was downloaded at offset %d: %s",
          m.path(), source, m.offsetBytes(), m.reason()), m.path(), m.offsetBytes());
    }
  }

  private CacheEntry commit() throws IOException {
    List<ManifestFile> files = new ArrayList<>(objects.size());
    for (int i = 0; i < objects.size(); i++) {
      // Every file was verified and fsynced by its tail (awaitTails) before we got here.
      RemoteObject o = objects.get(i);
      files.add(new ManifestFile(o.relativePath(), o.key(), o.sizeBytes(), o.etag(), o.versionId(),
          verified[i], crcs[i]));
    }
    Manifest manifest = new Manifest(source, blockBytes, Instant.now(), files);
    staging.commit(manifest);
    cache.touch(name);
    // An unleased entry may be evicted at any moment, even now; the caller's lease then says so.
    Optional<CacheEntry> committed = cache.committedEntry(name);
    return committed.orElseGet(() -> new CacheEntry(source, name, layout.data(name), manifest, Instant.now(),
        false, List.of()));
  }

  private void awaitAll(List<Future<?>> futures) throws IOException {
    failure.awaitAll(futures, this::cancelQueuedTails);
  }

  /** Runs a task on the transfer pool; once the cache is closed, records the failure instead. */
  private Future<?> submit(java.util.concurrent.Callable<Void> task) {
    try {
      return cache.rangePool().submit(task);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      failure.recordStopped(": the cache was closed");
      return java.util.concurrent.CompletableFuture.completedFuture(null);
    }
  }

  private ByteBuffer takeBuffer() throws IOException {
    try {
      return cache.buffers().take();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted waiting for a transfer buffer");
    }
  }

  private static void readFully(FileChannel ch, ByteBuffer buf, long offset, Path file) throws IOException {
    long pos = offset;
    while (buf.hasRemaining()) {
      int n = ch.read(buf, pos);
      if (n < 0) {
        throw new IntegrityException("staging file " + file + " ends at offset " + pos, file.toString(), pos);
      }
      pos += n;
    }
  }

  private int blockCount(long sizeBytes) {
    return (int) ((sizeBytes + blockBytes - 1) / blockBytes);
  }

  private long blockLength(int fi, int bi) {
    long size = objects.get(fi).sizeBytes();
    return Math.min(blockBytes, size - (long) bi * blockBytes);
  }

  private long rate() {
    long nanos = Math.max(1, System.nanoTime() - startNanos);
    return (long) ((bytesDone.get() - bytesResumed) * 1e9 / nanos);
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception ignored) {
      // closing after a failure: the first error is the one reported
    }
  }
}
