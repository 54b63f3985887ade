package dev.modelcache.loader;

import dev.modelcache.common.nativeio.MemoryAdvice;
import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Loads the tensors of a safetensors model into a {@link TensorSink}: the module's entry point.
 *
 * <pre>{@code
 * Loader loader = Loader.builder().strategy(ReadStrategy.DIRECT).build();
 * try (OffHeapTensorSink sink = OffHeapTensorSink.create()) {
 *     LoadResult result = loader.load(Path.of("/models/llama"), sink);
 *     MemorySegment wq = sink.segment("model.layers.0.self_attn.q_proj.weight");
 * }
 * }</pre>
 *
 * <p>A {@code Loader} is immutable and thread-safe; each {@link #load} call owns its threads and
 * buffers and releases them before returning, whether it succeeds or fails.
 */
public final class Loader {
  /** Default read block: see the design notes; 8 MiB reached the disk's ceiling here. */
  public static final long DEFAULT_BLOCK_SIZE_BYTES = 8L << 20;
  /** Default number of direct reads in flight. */
  public static final int DEFAULT_IN_FLIGHT = 4;

  private static final long MAX_BLOCK_SIZE_BYTES = 1L << 30;
  private static final long MIN_ALIGNMENT = 4096;

  private final ReadStrategy strategy;
  private final long blockSizeBytes;
  private final int inFlight;
  private final boolean dropPagesAfterLoad;
  private final DirectOpener directOpener;

  /** Opens a file for O_DIRECT reads; replaceable in tests to inject the kernel's refusal. */
  @FunctionalInterface
  interface DirectOpener {
    FileChannel open(Path path) throws IOException;
  }

  private static FileChannel openWithDirectFlag(Path path) throws IOException {
    OpenOption direct = com.sun.nio.file.ExtendedOpenOption.DIRECT;
    return FileChannel.open(path, StandardOpenOption.READ, direct);
  }

  private Loader(Builder b) {
    this.strategy = b.strategy;
    this.blockSizeBytes = b.blockSizeBytes;
    this.inFlight = b.inFlight;
    this.dropPagesAfterLoad = b.dropPagesAfterLoad;
    this.directOpener = b.directOpener;
  }

  /** A builder with the defaults: {@link ReadStrategy#DIRECT}, 8 MiB blocks, 4 in flight, no page dropping. */
  public static Builder builder() {
    return new Builder();
  }

  /** The configured strategy. */
  public ReadStrategy strategy() {
    return strategy;
  }

  /** The configured read block size in bytes. */
  public long blockSizeBytes() {
    return blockSizeBytes;
  }

  /** The configured number of reads in flight (direct strategy). */
  public int inFlight() {
    return inFlight;
  }

  /**
   * Opens, validates and loads a model (a file or a directory, see
   * {@link SafetensorsModel#open(Path)}).
   *
   * @throws SafetensorsFormatException if the model breaks a rule of the format
   * @throws TensorSinkException if the sink failed (its exception is the cause)
   * @throws InterruptedIOException if the calling thread was interrupted
   * @throws IOException if reading failed
   */
  public LoadResult load(Path model, TensorSink sink) throws IOException {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(sink, "sink");
    return LoadFailures.tellingFailure(sink, () -> loadUntold(SafetensorsModel.open(model), sink));
  }

  /**
   * Loads an opened model into {@code sink}, file by file; see {@link TensorSink} for the order
   * and threading of the calls. The files must not change between opening and loading: a file
   * found shorter than its header says fails the load with an {@link EOFException}.
   *
   * @throws TensorSinkException if the sink failed (its exception is the cause)
   * @throws InterruptedIOException if the calling thread was interrupted
   * @throws IOException if reading failed
   */
  public LoadResult load(SafetensorsModel model, TensorSink sink) throws IOException {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(sink, "sink");
    return LoadFailures.tellingFailure(sink, () -> loadUntold(model, sink));
  }

  /** {@link #load(SafetensorsModel, TensorSink)} without {@link TensorSink#loadFailed}: for a caller that tells the sink itself. */
  LoadResult loadUntold(SafetensorsModel model, TensorSink sink) throws IOException {
    long start = System.nanoTime();
    Run run = new Run(sink);
    try {
      if (strategy == ReadStrategy.MMAP) {
        for (SafetensorsFile f : model.files()) {
          run.loadMapped(f);
          run.afterFile(f);
        }
      } else {
        run.loadBlocks(model.files());
      }
    } finally {
      run.releaseBuffers();
    }
    ReadStrategy used = run.fallbackReason == null ? strategy : ReadStrategy.BUFFERED;
    return new LoadResult(
        strategy,
        used,
        Optional.ofNullable(run.fallbackReason),
        run.bytes,
        run.tensors,
        model.files().size(),
        Duration.ofNanos(System.nanoTime() - start),
        run.poolBytes,
        dropPagesAfterLoad && run.allDropped);
  }

  /** State of one load call. */
  private final class Run {
    private final TensorSink sink;
    private final Arena arena = Arena.ofShared();
    private final List<MemorySegment> pool = new ArrayList<>();
    private String fallbackReason;
    private long bytes;
    private int tensors;
    private long poolBytes;
    private boolean allDropped = true;

    Run(TensorSink sink) {
      this.sink = sink;
    }

    void afterFile(SafetensorsFile f) throws IOException {
      if (dropPagesAfterLoad) {
        allDropped &= PageCache.drop(f.path());
      }
    }

    void loadMapped(SafetensorsFile f) throws IOException {
      try (Arena mapArena = Arena.ofShared();
          FileChannel ch = FileChannel.open(f.path(), StandardOpenOption.READ)) {
        checkSize(f, ch.size());
        MemorySegment data = ch.map(FileChannel.MapMode.READ_ONLY, 0, f.sizeBytes(), mapArena)
            .asSlice(f.dataOffset());
        PageCache.advise(data, MemoryAdvice.SEQUENTIAL);
        PageCache.advise(data, MemoryAdvice.WILL_NEED);
        TensorCursor cursor = new TensorCursor(f.tensors(), sink);
        cursor.deliver(0, data);
        cursor.finish();
        count(cursor);
      }
    }

    private void count(TensorCursor cursor) {
      bytes += cursor.bytesDelivered();
      tensors += cursor.tensorsDelivered();
    }

    void loadBlocks(List<SafetensorsFile> files) throws IOException {
      boolean direct = strategy == ReadStrategy.DIRECT;
      long alignment = MIN_ALIGNMENT;
      for (SafetensorsFile f : files) {
        alignment = Math.max(alignment, blockSizeOf(f.path()));
      }
      long block = (blockSizeBytes + alignment - 1) / alignment * alignment;
      int buffers = direct ? inFlight + 1 : 1;
      ExecutorService readers = null;
      try {
        for (SafetensorsFile f : files) {
          FileChannel ch = null;
          boolean fileDirect = false;
          if (direct) {
            ch = openDirect(f.path(), alignment);
            fileDirect = ch != null;
          }
          if (ch == null) {
            ch = FileChannel.open(f.path(), StandardOpenOption.READ);
          }
          try (FileChannel channel = ch) {
            checkSize(f, channel.size());
            while (pool.size() < buffers) {
              MemorySegment buf;
              try {
                buf = sink.allocateBuffer(block, alignment, arena);
                checkBuffer(buf, block, alignment);
              } catch (RuntimeException e) {
                throw new TensorSinkException(null, e);
              }
              pool.add(buf);
              poolBytes += block;
            }
            TensorCursor cursor = new TensorCursor(f.tensors(), sink);
            if (direct) {
              if (readers == null) {
                readers = Executors.newFixedThreadPool(
                    inFlight,
                    Thread.ofPlatform()
                        .daemon()
                        .name("modelcache-loader-read-", 0)
                        .factory());
              }
              pipelined(f, channel, fileDirect ? alignment : 1, block, cursor, readers);
            } else {
              sequential(f, channel, block, cursor);
            }
            cursor.finish();
            count(cursor);
          }
          afterFile(f);
        }
      } finally {
        if (readers != null) {
          readers.shutdownNow();
          awaitUninterruptibly(readers);
        }
      }
    }

    private FileChannel openDirect(Path path, long alignment) throws IOException {
      FileChannel ch;
      try {
        ch = directOpener.open(path);
      } catch (UnsupportedOperationException | IOException | LinkageError e) {
        fallback(path, "the file system refused O_DIRECT: " + e);
        return null;
      }
      // Some file systems accept the open flag and fail the read: probe one aligned block.
      try (Arena probeArena = Arena.ofConfined()) {
        ByteBuffer probe = probeArena.allocate(alignment, alignment).asByteBuffer();
        ch.read(probe, 0);
        return ch;
      } catch (IOException | RuntimeException e) {
        ch.close();
        fallback(path, "an O_DIRECT read failed: " + e);
        return null;
      }
    }

    private void fallback(Path path, String why) {
      if (fallbackReason == null) {
        fallbackReason = path + ": " + why + "; read with buffered positional reads instead";
      }
    }

    /** Reads blocks on the calling thread, one at a time (the buffered baseline). */
    private void sequential(SafetensorsFile f, FileChannel ch, long block, TensorCursor cursor)
        throws IOException {
      MemorySegment buf = pool.get(0);
      for (long pos = f.dataOffset(); pos < f.sizeBytes(); pos += block) {
        if (Thread.currentThread().isInterrupted()) {
          throw new InterruptedIOException("load of " + f.path() + " interrupted");
        }
        int valid = readBlock(f, ch, buf, pos, block, 1);
        cursor.deliver(pos - f.dataOffset(), buf.asSlice(0, valid));
      }
    }

    private record Pending(long position, MemorySegment buffer, Future<Integer> read) {}

    /**
     * Keeps up to {@code inFlight} block reads running on reader threads while the calling
     * thread hands completed blocks to the sink in file order. The pool has one buffer more
     * than reads in flight, so the disk stays busy while the sink works on a block.
     */
    private void pipelined(
        SafetensorsFile f,
        FileChannel ch,
        long alignment,
        long block,
        TensorCursor cursor,
        ExecutorService readers)
        throws IOException {
      ArrayDeque<MemorySegment> free = new ArrayDeque<>(pool);
      ArrayDeque<Pending> pending = new ArrayDeque<>();
      long readStart = f.dataOffset() / alignment * alignment;
      long next = readStart;
      try {
        while (true) {
          while (pending.size() < inFlight && !free.isEmpty() && next < f.sizeBytes()) {
            MemorySegment buf = free.poll();
            long pos = next;
            pending.add(new Pending(
                pos, buf, readers.submit(() -> readBlock(f, ch, buf, pos, block, alignment))));
            next += block;
          }
          Pending p = pending.poll();
          if (p == null) {
            return;
          }
          int valid = await(f, p);
          // Top up before handing the block over, so reads continue while the sink works.
          while (pending.size() < inFlight && !free.isEmpty() && next < f.sizeBytes()) {
            MemorySegment buf = free.poll();
            long pos = next;
            pending.add(new Pending(
                pos, buf, readers.submit(() -> readBlock(f, ch, buf, pos, block, alignment))));
            next += block;
          }
          long skip = Math.max(0, f.dataOffset() - p.position());
          cursor.deliver(
              p.position() + skip - f.dataOffset(), p.buffer().asSlice(skip, valid - skip));
          free.add(p.buffer());
        }
      } finally {
        // Never release a buffer a read may still be writing into.
        for (Pending p : pending) {
          p.read().cancel(false);
        }
        for (Pending p : pending) {
          try {
            awaitDone(p.read());
          } catch (RuntimeException ignored) {
            // the load is failing already; the first error is the one reported
          }
        }
      }
    }

    private int await(SafetensorsFile f, Pending p) throws IOException {
      try {
        return p.read().get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("load of " + f.path() + " interrupted");
      } catch (ExecutionException e) {
        throw LoadFailures.causeOf(e, f.path() + ": read at offset " + p.position());
      }
    }

    private static void awaitDone(Future<?> f) {
      boolean interrupted = false;
      while (!f.isDone()) {
        try {
          f.get();
        } catch (InterruptedException e) {
          interrupted = true;
        } catch (ExecutionException | java.util.concurrent.CancellationException e) {
          break;
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }

    void releaseBuffers() {
      try {
        for (MemorySegment buf : pool) {
          try {
            sink.releaseBuffer(buf);
          } catch (RuntimeException e) {
            System.getLogger("dev.modelcache.loader")
                .log(System.Logger.Level.WARNING, "TensorSink.releaseBuffer failed", e);
          }
        }
      } finally {
        pool.clear();
        arena.close();
      }
    }
  }

  /**
   * Reads {@code [pos, min(pos + block, size))} into {@code buf}. With O_DIRECT the request is
   * rounded up to the alignment and the kernel returns a short count at the end of the file.
   *
   * @return the number of valid bytes read
   */
  private static int readBlock(
      SafetensorsFile f, FileChannel ch, MemorySegment buf, long pos, long block, long alignment)
      throws IOException {
    long expected = Math.min(block, f.sizeBytes() - pos);
    long request = (expected + alignment - 1) / alignment * alignment;
    ByteBuffer bb = buf.asSlice(0, request).asByteBuffer();
    int total = 0;
    while (total < expected) {
      int r;
      try {
        r = ch.read(bb, pos + total);
      } catch (IOException e) {
        throw new IOException(
            String.format(
                Locale.ROOT,
                "%s: read of %d bytes at offset %d failed: %s",
                f.path(),
                request - total,
                pos + total,
                e),
            e);
      }
      if (r <= 0) {
        break;
      }
      total += r;
      if (alignment > 1 && total % alignment != 0) {
        break; // a short O_DIRECT read: the end of the file
      }
    }
    if (total < expected) {
      throw new EOFException(String.format(
          Locale.ROOT,
          "%s: file ended at %d, expected %d bytes (was it truncated after opening?)",
          f.path(),
          pos + total,
          f.sizeBytes()));
    }
    return (int) expected;
  }

  private static void checkSize(SafetensorsFile f, long actual) throws IOException {
    if (actual != f.sizeBytes()) {
      throw new EOFException(String.format(
          Locale.ROOT,
          "%s: file is %d bytes now but was %d when its header was validated",
          f.path(),
          actual,
          f.sizeBytes()));
    }
  }

  private static void checkBuffer(MemorySegment buf, long size, long alignment) {
    if (!buf.isNative()
        || buf.byteSize() < size
        || buf.address() % alignment != 0
        || buf.isReadOnly()) {
      throw new IllegalArgumentException(String.format(
          Locale.ROOT,
          "TensorSink.allocateBuffer must return writable native memory of at least %d bytes aligned to %d, got %s",
          size,
          alignment,
          buf));
    }
  }

  private static long blockSizeOf(Path path) {
    try {
      long b = Files.getFileStore(path).getBlockSize();
      return b > 0 && Long.bitCount(b) == 1 ? b : MIN_ALIGNMENT;
    } catch (IOException | UnsupportedOperationException e) {
      return MIN_ALIGNMENT;
    }
  }

  private static void awaitUninterruptibly(ExecutorService executor) {
    boolean interrupted = false;
    while (true) {
      try {
        if (executor.awaitTermination(1, TimeUnit.MINUTES)) {
          break;
        }
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Configures a {@link Loader}. Not thread-safe; {@link #build()} checks the settings.
   */
  public static final class Builder {
    private ReadStrategy strategy = ReadStrategy.DIRECT;
    private long blockSizeBytes = DEFAULT_BLOCK_SIZE_BYTES;
    private int inFlight = DEFAULT_IN_FLIGHT;
    private boolean dropPagesAfterLoad;
    private DirectOpener directOpener = Loader::openWithDirectFlag;

    private Builder() {}

    /** Replaces how files are opened for O_DIRECT (fault injection in tests). */
    Builder directOpener(DirectOpener opener) {
      this.directOpener = Objects.requireNonNull(opener, "opener");
      return this;
    }

    /** The read strategy; default {@link ReadStrategy#DIRECT}. */
    public Builder strategy(ReadStrategy strategy) {
      this.strategy = Objects.requireNonNull(strategy, "strategy");
      return this;
    }

    /**
     * Size of one read block and pool buffer, default 8 MiB; rounded up to the file system's
     * block size. Between 4 KiB and 1 GiB.
     */
    public Builder blockSizeBytes(long blockSizeBytes) {
      if (blockSizeBytes < MIN_ALIGNMENT || blockSizeBytes > MAX_BLOCK_SIZE_BYTES) {
        throw new IllegalArgumentException("blockSizeBytes must be between " + MIN_ALIGNMENT
            + " and " + MAX_BLOCK_SIZE_BYTES + ", was " + blockSizeBytes);
      }
      this.blockSizeBytes = blockSizeBytes;
      return this;
    }

    /**
     * Reads kept in flight by the direct strategy (also its number of reader threads), default
     * 4, between 1 and 64. The pool holds {@code inFlight + 1} blocks.
     */
    public Builder inFlight(int inFlight) {
      if (inFlight < 1 || inFlight > 64) {
        throw new IllegalArgumentException("inFlight must be between 1 and 64, was " + inFlight);
      }
      this.inFlight = inFlight;
      return this;
    }

    /**
     * Whether to drop each file's pages from the page cache after loading it
     * ({@code posix_fadvise(POSIX_FADV_DONTNEED)}, needs native access), default false.
     */
    public Builder dropPagesAfterLoad(boolean drop) {
      this.dropPagesAfterLoad = drop;
      return this;
    }

    /** Builds the loader. */
    public Loader build() {
      return new Loader(this);
    }
  }
}
