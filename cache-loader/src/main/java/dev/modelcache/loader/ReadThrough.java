package dev.modelcache.loader;

import dev.modelcache.core.CacheEntry;
import dev.modelcache.core.DownloadListener;
import dev.modelcache.core.EnsureOptions;
import dev.modelcache.core.EntryNotFoundException;
import dev.modelcache.core.Lease;
import dev.modelcache.core.ManifestCorruptException;
import dev.modelcache.core.ModelCache;
import dev.modelcache.core.ModelSource;
import dev.modelcache.loader.internal.HeaderParser;
import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.UnaryOperator;

/**
 * Loads a model from its source into a {@link TensorSink} through the cache, in one pass: on a
 * hit, a {@link Loader#load} of the committed entry under a {@link Lease}; on a miss, the download
 * hands each tensor to the sink as soon as its bytes are on disk and checked, while the same bytes
 * fill the cache, and the entry is committed when the download completes. A cold start on a miss
 * then takes about the longer of the download and the load, not their sum, and the next load on
 * the node is a hit.
 *
 * <pre>{@code
 * ReadThrough readThrough = ReadThrough.builder(cache).loader(Loader.builder().build()).build();
 * try (OffHeapTensorSink sink = OffHeapTensorSink.create()) {
 *     ReadThroughResult r = readThrough.load(ModelSource.parse("s3://bucket/llama/"), sink);
 * }
 * }</pre>
 *
 * <h2>On a miss</h2>
 * The model's files are the listing's top-level {@code *.safetensors} files, loaded in path order
 * or in the order {@link Builder#fileOrder} gives; other files (config, tokenizer) are cached but
 * not loaded. The download fetches the first block of each model file first (its header), then
 * the model files' blocks in loading order, with the cache's usual concurrency, then the other
 * files. The loading thread reads each range from the staging file once the download reports it
 * written and read back with the CRC32C of the bytes received, into one buffer the sink supplies
 * ({@link TensorSink#allocateBuffer}, {@link Loader#blockSizeBytes} bytes), so memory stays
 * bounded whatever the model's size. After the last tensor it waits for the commit, and returns
 * only once the entry is committed.
 *
 * <h2>The sink's contract</h2>
 * Everything {@link TensorSink} says holds, and: tensors may reach the sink before the whole model
 * is verified against the checksums the store vouches for. If that verification fails, the load
 * fails with {@link dev.modelcache.core.IntegrityException}, the sink's {@link
 * TensorSink#loadFailed} is called with it, and nothing is committed (a file streamed to a sink is
 * never fetched again within a load: the sink might hold its bad bytes). The same holds for any
 * other failure, the download's or the sink's: {@code loadFailed}, then the exception. A failure of
 * the sink or an interrupt of the loading thread ends the load, not the download, which goes on in
 * the background and commits as {@link ModelCache#prefetch} would.
 *
 * <h2>Another process</h2>
 * A load that finds another process downloading the model waits for that download as {@link
 * ModelCache#ensure} does ({@link EnsureOptions#waitTimeout}), then loads the committed entry under
 * a lease; so does a load that joins a download another thread of this cache runs.
 *
 * <p>Thread-safe: one instance may run loads on several threads at once, each with its own sink.
 * Every call of a sink comes from the thread that called {@link #load}.
 */
@SuppressWarnings(
    "exports") // the cache's types, which a user of this class requires itself (see module-info)
public final class ReadThrough {

  private static final System.Logger LOG = System.getLogger(ReadThrough.class.getName());
  /** Alignment asked of the sink's buffer: positional reads of the page cache need none, devices like it. */
  private static final long BUFFER_ALIGNMENT = 4096;

  private final ModelCache cache;
  private final Loader loader;
  private final EnsureOptions options;
  private final DownloadListener listener;
  private final UnaryOperator<List<String>> fileOrder;

  private ReadThrough(Builder b) {
    this.cache = b.cache;
    this.loader = b.loader;
    this.options = b.options;
    this.listener = b.listener;
    this.fileOrder = b.fileOrder;
  }

  /** A builder for read-through loads through {@code cache}. */
  public static Builder builder(ModelCache cache) {
    return new Builder(cache);
  }

  /**
   * Loads {@code source} into {@code sink}, downloading and caching it in the same pass on a miss.
   *
   * @return the entry, whether it was a hit, the bytes fetched and what was loaded
   * @throws dev.modelcache.core.IntegrityException if the download does not match what the store
   *     vouches for (the sink was told; nothing is committed)
   * @throws TensorSinkException if the sink failed (its exception is the cause)
   * @throws SafetensorsFormatException if a model file breaks a rule of the format
   * @throws InterruptedIOException if the calling thread was interrupted
   * @throws IOException every failure {@link ModelCache#ensure} names, and other I/O failures;
   *     whatever it is, the sink's {@link TensorSink#loadFailed} was called first
   */
  public ReadThroughResult load(ModelSource source, TensorSink sink) throws IOException {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(sink, "sink");
    return LoadFailures.tellingFailure(sink, () -> loadUntold(source, sink));
  }

  private ReadThroughResult loadUntold(ModelSource source, TensorSink sink) throws IOException {
    if (!options.verify()) {
      Optional<CacheEntry> hit;
      try {
        hit = cache.getIfPresent(source);
      } catch (ManifestCorruptException e) {
        hit = Optional.empty(); // the download below replaces it
      }
      if (hit.isPresent()) {
        Optional<ReadThroughResult> loaded = loadLeased(hit.get(), true, 0, sink);
        if (loaded.isPresent()) {
          return loaded.get();
        }
      }
    }
    StagedModel staged = new StagedModel(listener, fileOrder);
    // Completes once staged knows the call returned, with the call's outcome.
    CompletableFuture<CacheEntry> download =
        cache.prefetch(source, options, staged).whenComplete((entry, error) -> staged.done());
    try {
      if (staged.awaitStaged()) {
        LoadResult loaded = stream(staged, sink);
        return new ReadThroughResult(await(download, source), false, staged.bytesFetched(), loaded);
      }
      // Another download of it (another process, or another thread of this cache) committed it.
      CacheEntry entry = await(download, source);
      return loadLeased(entry, false, staged.bytesFetched(), sink)
          .orElseThrow(() -> new EntryNotFoundException("cannot load " + source
              + ": it was evicted as soon as it was committed; load it again"));
    } finally {
      staged.closeFiles();
    }
  }

  /** Loads a committed entry under a lease; empty if it was evicted before the lease was taken. */
  private Optional<ReadThroughResult> loadLeased(
      CacheEntry entry, boolean hit, long fetchedBytes, TensorSink sink) throws IOException {
    Lease lease;
    try {
      lease = cache.lease(entry);
    } catch (EntryNotFoundException e) {
      return Optional.empty();
    }
    try (lease) {
      LoadResult loaded = loader.loadUntold(SafetensorsModel.open(lease.directory()), sink);
      return Optional.of(new ReadThroughResult(lease.entry(), hit, fetchedBytes, loaded));
    }
  }

  /** Delivers the staged files' tensors in order as their ranges become ready, through one sink buffer. */
  private LoadResult stream(StagedModel staged, TensorSink sink) throws IOException {
    long start = System.nanoTime();
    long bufferBytes = loader.blockSizeBytes();
    try (Arena arena = Arena.ofShared()) {
      MemorySegment buffer;
      try {
        buffer = sink.allocateBuffer(bufferBytes, BUFFER_ALIGNMENT, arena);
      } catch (RuntimeException e) {
        throw new TensorSinkException(null, e);
      }
      if (buffer == null || buffer.byteSize() < bufferBytes) {
        throw new IllegalStateException(
            "TensorSink.allocateBuffer returned " + buffer + " for " + bufferBytes + " bytes");
      }
      try {
        return streamInto(staged, sink, buffer, start);
      } finally {
        try {
          sink.releaseBuffer(buffer);
        } catch (RuntimeException e) {
          LOG.log(System.Logger.Level.WARNING, "TensorSink.releaseBuffer failed", e);
        }
      }
    }
  }

  private LoadResult streamInto(
      StagedModel staged, TensorSink sink, MemorySegment buffer, long start) throws IOException {
    long bufferBytes = buffer.byteSize();
    Set<String> names = new HashSet<>();
    long bytes = 0;
    int tensors = 0;
    List<StagedModel.File> files = staged.files();
    for (StagedModel.File f : files) {
      SafetensorsFile header = readHeader(staged, f);
      HeaderParser.checkUnique(header.path(), header.tensors(), names);
      TensorCursor cursor = new TensorCursor(header.tensors(), sink);
      long size = header.sizeBytes();
      for (long pos = header.dataOffset(); pos < size; ) {
        if (Thread.currentThread().isInterrupted()) {
          throw new InterruptedIOException(
              "read-through load of " + header.path() + " interrupted");
        }
        long end = Math.min(Math.min(size, pos + bufferBytes), staged.awaitReady(f, pos));
        readFully(f, buffer.asSlice(0, end - pos).asByteBuffer(), pos);
        cursor.deliver(pos - header.dataOffset(), buffer.asSlice(0, end - pos));
        pos = end;
      }
      cursor.finish();
      bytes += cursor.bytesDelivered();
      tensors += cursor.tensorsDelivered();
    }
    Optional<String> why = loader.strategy() == ReadStrategy.BUFFERED
        ? Optional.empty()
        : Optional.of("read through the download: positional reads of the staging files as their"
            + " ranges arrived");
    return new LoadResult(
        loader.strategy(),
        ReadStrategy.BUFFERED,
        why,
        bytes,
        tensors,
        files.size(),
        Duration.ofNanos(System.nanoTime() - start),
        bufferBytes,
        false);
  }

  /** Waits for the header of {@code f}, reads and validates it. */
  private static SafetensorsFile readHeader(StagedModel staged, StagedModel.File f)
      throws IOException {
    long size = f.staged.sizeBytes();
    java.nio.file.Path path = f.staged.entryFile();
    if (size < 8) {
      throw new SafetensorsFormatException(
          path,
          null,
          SafetensorsFormatException.Rule.FILE_TOO_SHORT,
          "the file has " + size + " bytes");
    }
    awaitRange(staged, f, 0, 8);
    ByteBuffer prefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    readFully(f, prefix, 0);
    int n = HeaderParser.checkHeaderLength(path, size, prefix.getLong(0));
    awaitRange(staged, f, 8, 8L + n);
    ByteBuffer header = ByteBuffer.allocate(n);
    readFully(f, header, 8);
    return SafetensorsFile.fromHeader(path, size, header.array());
  }

  private static void awaitRange(StagedModel staged, StagedModel.File f, long from, long to)
      throws IOException {
    for (long pos = from; pos < to; ) {
      pos = staged.awaitReady(f, pos);
    }
  }

  private static void readFully(StagedModel.File f, ByteBuffer dst, long position)
      throws IOException {
    FileChannel ch = f.channel;
    long pos = position;
    while (dst.hasRemaining()) {
      int r = ch.read(dst, pos);
      if (r < 0) {
        throw new EOFException("staging file " + f.staged.stagingFile() + " of " + f.staged.path()
            + " ends at offset " + pos + ", before its listed " + f.staged.sizeBytes() + " bytes");
      }
      pos += r;
    }
  }

  private static CacheEntry await(CompletableFuture<CacheEntry> download, ModelSource source)
      throws IOException {
    try {
      return download.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException(
          "interrupted while loading " + source + " through the cache");
    } catch (ExecutionException e) {
      throw LoadFailures.causeOf(e, "read-through load of " + source);
    }
  }

  /**
   * Configures a {@link ReadThrough}. Not thread-safe; {@link #build} may be called more than
   * once.
   */
  public static final class Builder {
    private final ModelCache cache;
    private Loader loader = Loader.builder().build();
    private EnsureOptions options = EnsureOptions.DEFAULTS;
    private DownloadListener listener = DownloadListener.NONE;
    private UnaryOperator<List<String>> fileOrder = UnaryOperator.identity();

    private Builder(ModelCache cache) {
      this.cache = Objects.requireNonNull(cache, "cache");
    }

    /**
     * The loader of a hit (and of a miss that another download served); its {@link
     * Loader#blockSizeBytes} is also the size of the one buffer a streamed load reads into.
     * Default: {@code Loader.builder().build()}.
     */
    public Builder loader(Loader loader) {
      this.loader = Objects.requireNonNull(loader, "loader");
      return this;
    }

    /**
     * How the download behaves: the wait for another process, verification of a hit (a hit
     * that must be verified goes through the download path, which verifies it), pinning.
     * Default: {@link EnsureOptions#DEFAULTS}.
     */
    public Builder ensureOptions(EnsureOptions options) {
      this.options = Objects.requireNonNull(options, "options");
      return this;
    }

    /** Receives the download's events, as for {@link ModelCache#prefetch}. Default: none. */
    public Builder listener(DownloadListener listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /**
     * The order in which a miss loads (and so fetches) the model's files: given the listing's
     * top-level {@code *.safetensors} paths in path order, returns the same paths in the order
     * to load them. An order that is not a permutation of them makes the download stream
     * nothing, and the load then waits for the commit and loads the entry. Default: path
     * order. A hit loads in path order.
     */
    public Builder fileOrder(UnaryOperator<List<String>> fileOrder) {
      this.fileOrder = Objects.requireNonNull(fileOrder, "fileOrder");
      return this;
    }

    /** A read-through loader with these settings. */
    public ReadThrough build() {
      return new ReadThrough(this);
    }
  }
}
