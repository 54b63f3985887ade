package dev.modelcache.core;

import dev.modelcache.common.nativeio.NativeIo;
import dev.modelcache.core.spi.ObjectKeys;
import dev.modelcache.core.spi.RemoteObject;
import dev.modelcache.core.spi.StorageBackend;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32C;

/**
 * One download of one model by this process: list, stage (adopting an interrupted download's
 * staging directory when its writer is dead), make room, preallocate, fetch ranges under the
 * cache's global concurrency limit, verify, fsync, commit by rename. This class orchestrates; the
 * parts do the work:
 *
 * <ul>
 *   <li>{@link Staging}: the staging directory, its owner file, journal, preallocation, reserve
 *       marker and the commit by rename;
 *   <li>{@link StagedFile}: one file's written blocks, CRCs, write lock, attempts and verification
 *       outcome;
 *   <li>{@link FetchOrder}: the order in which blocks are queued;
 *   <li>{@link RangeFetcher}: ranged reads from the backend with retries and backoff;
 *   <li>{@link BlockWriter}: writes (O_DIRECT with a fallback to the page cache) and fsync;
 *   <li>{@link ReadBack}: read-back and verification, block by block or in order against the
 *       source's checksum, and the files to fetch again;
 *   <li>{@link TailPool}, {@link DownloadFailure}, {@link DownloadMeter}: the tail threads, the
 *       first failure, the bytes on disk and the progress events.
 * </ul>
 *
 * <p>Crash safety rests on ordering: a range's bytes are written before its journal record; the
 * manifest is written after every file is verified and fsynced; the rename comes last. Whatever
 * point a crash hits, {@code entries/} holds only complete entries.
 *
 * <p>Ranges are queued in {@value #WRITE_STREAMS} streams over the files laid end to end (see
 * {@link FetchOrder}), so the transfer threads write into several files at once while within each
 * stream files complete one after another. Verification and fsync run on the download's tail
 * threads while later ranges are still fetched, so only the last blocks' and last files' tails,
 * the manifest, the directory fsyncs and the rename are left after the last byte arrives. The
 * commit waits for every tail to succeed, and a tail failure stops the fetch and fails the
 * download like any other integrity or write failure. A file whose bytes do not match what the
 * source vouches for is fetched again in another round, once every tail of the round is done, up
 * to the cache's {@code maxAttempts} fetches of a file.
 *
 * <p>Not thread-safe: {@link #run} is called once, by the thread that downloads; it uses the
 * cache's transfer threads and its own tail threads, and returns when none of them touches the
 * staging directory any more.
 */
final class DownloadJob {

  private static final System.Logger LOG = System.getLogger(DownloadJob.class.getName());
  /** Files written at once; see {@link FetchOrder}. */
  static final int WRITE_STREAMS = 4;

  private final DownloadHost cache;
  private final DownloadSettings settings;
  private final ModelSource source;
  private final String name;
  private final ListenerFanout fanout;
  private final String writerId;
  private final long blockBytes;

  DownloadJob(DownloadHost cache, ModelSource source, ListenerFanout fanout) {
    this.cache = cache;
    this.settings = cache.settings();
    this.source = source;
    this.name = source.cacheName();
    this.fanout = fanout;
    this.writerId = cache.newWriterId();
    this.blockBytes = settings.partSizeBytes();
  }

  /**
   * Lists the source and downloads it, sending the listeners' events.
   *
   * @throws IOException the listing's failure (no events are sent then), or the download's (sent
   *     to the listeners as {@code failed} too)
   */
  CacheEntry run() throws IOException {
    // Preallocation needs the native file calls; they are bound while the source is listed.
    NativeIo.bindInBackground();
    StorageBackend backend = cache.backendFor(source);
    List<RemoteObject> objects = checkListing(backend.list(source.uri()));
    List<ManifestFile> files = new ArrayList<>(objects.size());
    int[] blockCounts = new int[objects.size()];
    long bytesTotal = 0;
    for (int i = 0; i < objects.size(); i++) {
      RemoteObject o = objects.get(i);
      files.add(new ManifestFile(
          o.relativePath(),
          o.key(),
          o.sizeBytes(),
          o.etag(),
          o.versionId(),
          o.checksum(),
          new int[0]));
      blockCounts[i] = StagedFile.blockCount(o.sizeBytes(), blockBytes);
      bytesTotal += o.sizeBytes();
    }
    Manifest draft = new Manifest(source, blockBytes, Instant.now(), files);
    DownloadMeter meter = new DownloadMeter(fanout, bytesTotal);
    DownloadFailure failure = new DownloadFailure(source);
    LocalWriteFailures failures =
        new LocalWriteFailures(source, cache::usableBytes, bytesTotal, meter::bytesLeft);
    RangeFetcher fetcher = new RangeFetcher(source, backend, cache, failure);
    BlockWriter writer = new BlockWriter(source, settings, failures);
    BlockStream stream = BlockStream.of(fanout.streaming(), objects);
    AtomicLong bytesReadBack = new AtomicLong();
    fanout.started(source, bytesTotal);
    try {
      Staging staging =
          Staging.open(cache.layout(), cache.holders(), writerId, draft, blockCounts, failures);
      CacheEntry entry = download(
          staging, objects, meter, failure, failures, fetcher, writer, stream, bytesReadBack);
      meter.finished();
      fanout.completed(
          entry,
          new DownloadSummary(
              source,
              bytesTotal,
              fetcher.bytesFetched(),
              meter.bytesResumed(),
              writer.bytesWrittenDirect(),
              bytesReadBack.get(),
              Duration.ofNanos(meter.elapsedNanos())));
      return entry;
    } catch (IOException | RuntimeException | Error e) {
      fanout.failed(e instanceof Exception ex ? ex : new IOException(e));
      throw e;
    }
  }

  /**
   * Downloads into {@code staging} and commits it. On failure the staging directory is given up
   * for a resume, or deleted when what failed makes it worthless (a permanent source error, an
   * integrity or local write failure).
   */
  private CacheEntry download(
      Staging staging,
      List<RemoteObject> objects,
      DownloadMeter meter,
      DownloadFailure failure,
      LocalWriteFailures failures,
      RangeFetcher fetcher,
      BlockWriter writer,
      BlockStream stream,
      AtomicLong bytesReadBack)
      throws IOException {
    boolean discard = true;
    TailPool tails = new TailPool(source, failure);
    try {
      List<StagedFile> files = new ArrayList<>(objects.size());
      for (int i = 0; i < objects.size(); i++) {
        files.add(new StagedFile(i, objects.get(i), staging.target(objects.get(i)), blockBytes));
      }
      ReadBack readBack = new ReadBack(
          source, settings, tails, failure, stream, writer::writesDirect, bytesReadBack);
      return new Pipeline(
              staging, files, meter, failure, failures, fetcher, writer, tails, readBack, stream)
          .downloadAndCommit();
    } catch (IOException | RuntimeException | Error e) {
      discard = !(e instanceof InterruptedIOException)
          && !(e instanceof StorageException se && se.retryable())
          && (e instanceof StorageException
              || e instanceof IntegrityException
              || e instanceof InsufficientSpaceException
              || e instanceof CacheWriteException);
      throw e;
    } finally {
      tails.stop();
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
        throw new InvalidObjectKeyException(
            o.key(), "its path '" + o.relativePath() + "' is listed twice");
      }
    }
    for (RemoteObject o : sorted) {
      String p = o.relativePath();
      for (int slash = p.indexOf('/'); slash > 0; slash = p.indexOf('/', slash + 1)) {
        if (paths.contains(p.substring(0, slash))) {
          throw new InvalidObjectKeyException(
              o.key(),
              "'" + p.substring(0, slash) + "' is both a file and a directory in the listing");
        }
      }
    }
    return sorted;
  }

  /**
   * The download proper, once staged: room and preallocation, the resume check, the fetch rounds
   * with their tails, the commit. Called by the download thread; its tasks run on the cache's
   * transfer threads and the download's tail threads.
   */
  private final class Pipeline {

    private final Staging staging;
    private final List<StagedFile> files;
    private final DownloadMeter meter;
    private final DownloadFailure failure;
    private final LocalWriteFailures failures;
    private final RangeFetcher fetcher;
    private final BlockWriter writer;
    private final TailPool tails;
    private final ReadBack readBack;
    private final BlockStream stream;

    Pipeline(
        Staging staging,
        List<StagedFile> files,
        DownloadMeter meter,
        DownloadFailure failure,
        LocalWriteFailures failures,
        RangeFetcher fetcher,
        BlockWriter writer,
        TailPool tails,
        ReadBack readBack,
        BlockStream stream) {
      this.staging = staging;
      this.files = List.copyOf(files);
      this.meter = meter;
      this.failure = failure;
      this.failures = failures;
      this.fetcher = fetcher;
      this.writer = writer;
      this.tails = tails;
      this.readBack = readBack;
      this.stream = stream;
    }

    CacheEntry downloadAndCommit() throws IOException {
      readBack.checkVerifiable(files);
      List<Journal.Entry> journaled = firstOfEach(staging.journaled());
      long journaledBytes = 0;
      for (Journal.Entry e : journaled) {
        journaledBytes += files.get(e.fileIndex()).blockLength(e.blockIndex());
      }
      long t0 = System.nanoTime();
      try (FileLocks.Held space = cache.spaceLock()) {
        cache.makeRoom(meter.bytesTotal() - journaledBytes, name, source);
        staging.preallocate(files.stream().map(StagedFile::object).toList());
        // From here on every other download counts this one against the limits.
        staging.markReserved();
      }
      long t1 = System.nanoTime();
      // Before any block is re-checked or fetched, so that the reader is told of every one.
      stream.staged(source, files, cache.layout().data(name));
      if (!journaled.isEmpty()) {
        long resumed = recheckJournaled(journaled);
        meter.resumed(resumed);
        LOG.log(
            Level.DEBUG,
            () -> "resuming " + source + ": " + resumed + " of " + meter.bytesTotal()
                + " bytes kept from an interrupted download");
      }
      for (StagedFile f : files) {
        if (f.isComplete()) {
          fanout.fileCompleted(f.path(), f.sizeBytes());
          startTail(f);
        }
      }
      long t2 = System.nanoTime();
      long lastFetchEnd;
      try (Journal journal = staging.openJournal()) {
        while (true) {
          fetchMissing(journal);
          lastFetchEnd = System.nanoTime();
          awaitTails();
          StagedFile again = readBack.pollRefetch();
          if (again == null) {
            break;
          }
          // Files whose source checksum failed: fetched again, once every tail of this round is
          // done.
          for (; again != null; again = readBack.pollRefetch()) {
            meter.removed(again.sizeBytes());
            again.reset();
          }
        }
      }
      readBack.checkComplete(files);
      readBack.reportUnverified(files);
      long t3 = lastFetchEnd;
      long t4 = System.nanoTime();
      CacheEntry entry = commit();
      long t5 = System.nanoTime();
      LOG.log(
          Level.DEBUG,
          () -> String.format(
              Locale.ROOT,
              "%s: room+preallocate %d ms, resume check %d ms, fetch %d ms, verify+fsync left after fetch %d ms,"
                  + " commit %d ms; per-file verify %d ms and fsync %d ms in all, overlapped with the fetch",
              source,
              (t1 - t0) / 1_000_000,
              (t2 - t1) / 1_000_000,
              (t3 - t2) / 1_000_000,
              (t4 - t3) / 1_000_000,
              (t5 - t4) / 1_000_000,
              readBack.verifyNanos() / 1_000_000,
              writer.syncNanos() / 1_000_000));
      return entry;
    }

    /** The journal entries that name a block of the listing, the first one of each block. */
    private List<Journal.Entry> firstOfEach(List<Journal.Entry> journaled) {
      List<Journal.Entry> kept = new ArrayList<>();
      Set<Long> seen = new HashSet<>();
      for (Journal.Entry e : journaled) {
        if (e.fileIndex() < files.size()
            && e.blockIndex() < files.get(e.fileIndex()).blockCount()
            && seen.add(((long) e.fileIndex() << 32) | e.blockIndex())) {
          kept.add(e);
        }
      }
      return kept;
    }

    /** Re-reads journaled blocks; keeps those whose CRC32C still matches. Returns bytes kept. */
    private long recheckJournaled(List<Journal.Entry> journaled) throws IOException {
      List<Future<?>> futures = new ArrayList<>();
      AtomicLong kept = new AtomicLong();
      for (Journal.Entry e : journaled) {
        StagedFile f = files.get(e.fileIndex());
        int bi = e.blockIndex();
        futures.add(submit(() -> {
          ByteBuffer buf = takeBuffer();
          try {
            long len = f.blockLength(bi);
            buf.limit((int) len);
            try (FileChannel ch = FileChannel.open(f.target(), StandardOpenOption.READ)) {
              readFully(ch, buf, f.blockOffset(bi), f.target());
            }
            buf.flip();
            ByteBuffer bytes = buf.duplicate();
            CRC32C crc = new CRC32C();
            crc.update(buf);
            if ((int) crc.getValue() == e.crc32c()) {
              markDone(f, bi, e.crc32c());
              kept.addAndGet(len);
              readBack.kept(f, bi, bytes);
            }
          } finally {
            cache.buffers().give(buf);
          }
          return null;
        }));
      }
      failure.awaitAll(futures, tails::cancelQueued);
      return kept.get();
    }

    /**
     * Queues every block not yet written, in runs of up to {@link
     * DownloadSettings#blocksPerRequest} consecutive blocks of one file (a run is one request), in
     * the {@link FetchOrder} of their first blocks, and waits for them all. A run stops before a
     * block that is written already or taken by a run queued before it, so runs only reach
     * forward into blocks the order would have queued later; a streamed file's first block is a
     * run of its own.
     */
    private void fetchMissing(Journal journal) throws IOException {
      long[] sizes = new long[files.size()];
      boolean[] inOrder = new boolean[sizes.length];
      BitSet[] taken = new BitSet[sizes.length];
      for (StagedFile f : files) {
        sizes[f.index()] = f.sizeBytes();
        inOrder[f.index()] = f.readBack() != null;
        taken[f.index()] = new BitSet(f.blockCount());
      }
      List<Future<?>> futures = new ArrayList<>();
      long[] order = stream.isActive()
          ? FetchOrder.streamed(sizes, stream.order(), inOrder, blockBytes, WRITE_STREAMS)
          : FetchOrder.of(sizes, inOrder, blockBytes, WRITE_STREAMS);
      int perRequest = settings.blocksPerRequest();
      for (long block : order) {
        StagedFile f = files.get(FetchOrder.fileOf(block));
        int first = FetchOrder.blockOf(block);
        BitSet fileTaken = taken[f.index()];
        if (f.isDone(first) || fileTaken.get(first)) {
          continue;
        }
        // A streamed file's first block goes alone: the reader wants every header before the rest.
        int limit = first == 0 && stream.isStreamed(f) ? 1 : perRequest;
        int end = first + 1;
        while (end - first < limit
            && end < f.blockCount()
            && !f.isDone(end)
            && !fileTaken.get(end)) {
          end++;
        }
        fileTaken.set(first, end);
        int count = end - first;
        futures.add(submit(() -> {
          if (!failure.isSet()) {
            fetchRun(journal, f, first, count);
          }
          return null;
        }));
      }
      failure.awaitAll(futures, tails::cancelQueued);
    }

    /**
     * Fetches blocks {@code first} to {@code first + count - 1} of {@code f} with one request, and
     * as each arrives writes it, journals it, marks it written and queues its read-back.
     */
    private void fetchRun(Journal journal, StagedFile f, int first, int count) throws IOException {
      int last = first + count - 1;
      long offset = f.blockOffset(first);
      long length = f.blockOffset(last) + f.blockLength(last) - offset;
      readBack.awaitReadBack(f, first);
      ByteBuffer buf = takeBuffer();
      try (RangeFetcher.Run run = fetcher.run(f.object(), offset, length)) {
        for (int bi = first; bi <= last; bi++) {
          if (bi > first) {
            if (failure.isSet()) {
              return;
            }
            readBack.awaitReadBack(f, bi);
          }
          buf.clear().limit((int) f.blockLength(bi));
          if (!run.next(buf)) {
            return;
          }
          buf.flip();
          ByteBuffer received = buf.duplicate();
          CRC32C crc = new CRC32C();
          crc.update(buf.duplicate());
          int value = (int) crc.getValue();
          long blockOffset = f.blockOffset(bi);
          writer.write(f, buf, blockOffset);
          try {
            journal.record(f.index(), bi, value);
          } catch (IOException e) {
            throw failures.writeFailure(staging.journalFile(), -1, Journal.SLOT_BYTES, e);
          }
          markDone(f, bi, value);
          readBack.written(f, bi, received);
        }
      } finally {
        cache.buffers().give(buf);
      }
    }

    private void markDone(StagedFile f, int bi, int crc) {
      StagedFile.Marked marked = f.markDone(bi, crc);
      if (marked == StagedFile.Marked.ALREADY) {
        return;
      }
      meter.added(f.blockLength(bi));
      if (marked == StagedFile.Marked.COMPLETED) {
        fanout.fileCompleted(f.path(), f.sizeBytes());
        startTail(f);
      }
    }

    /**
     * Queues {@code f}'s tail work once all its blocks are written (or were kept on resume): its
     * fsync, and a check of its length (its blocks were read back as they were written); an empty
     * file with a source checksum gets that checksum checked here. Verification and fsync of a
     * file may run in either order or at once; the commit needs both. A file's tail is queued
     * once per round.
     */
    private void startTail(StagedFile f) {
      if (!f.startTail()) {
        return;
      }
      tails.submit(() -> writer.sync(f));
      if (f.blockCount() == 0) {
        tails.submit(() -> readBack.verifyFile(f));
      } else {
        tails.submit(() -> readBack.checkLength(f));
      }
    }

    /** Waits for every file's tail work; throws the download's first failure. */
    private void awaitTails() throws IOException {
      for (StagedFile f : files) {
        if (!f.tailStarted() && !failure.isSet()) {
          throw new IllegalStateException(
              "file " + f.index() + " of " + source + " was never completed");
        }
      }
      tails.awaitAll();
    }

    private CacheEntry commit() throws IOException {
      List<ManifestFile> manifestFiles = new ArrayList<>(files.size());
      for (StagedFile f : files) {
        // Every file was verified and fsynced by its tail (awaitTails) before we got here.
        manifestFiles.add(f.manifestFile(f.verified()));
      }
      Manifest manifest = new Manifest(source, blockBytes, Instant.now(), manifestFiles);
      staging.commit(manifest);
      cache.touch(name);
      // An unleased entry may be evicted at any moment, even now; the caller's lease then says so.
      Optional<CacheEntry> committed = cache.committedEntry(name);
      CacheLayout layout = cache.layout();
      return committed.orElseGet(() -> new CacheEntry(
          source, name, layout.data(name), manifest, Instant.now(), false, List.of()));
    }

    /** Runs a task on the transfer pool; once the cache is closed, records the failure instead. */
    private Future<?> submit(Callable<Void> task) {
      try {
        return cache.rangePool().submit(task);
      } catch (RejectedExecutionException e) {
        failure.recordStopped(": the cache was closed");
        return CompletableFuture.completedFuture(null);
      }
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

  private static void readFully(FileChannel ch, ByteBuffer buf, long offset, Path file)
      throws IOException {
    long pos = offset;
    while (buf.hasRemaining()) {
      int n = ch.read(buf, pos);
      if (n < 0) {
        throw new IntegrityException(
            "staging file " + file + " ends at offset " + pos, file.toString(), pos);
      }
      pos += n;
    }
  }
}
