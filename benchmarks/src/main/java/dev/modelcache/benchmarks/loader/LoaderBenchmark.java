package dev.modelcache.benchmarks.loader;

import dev.modelcache.benchmarks.Measurements;
import dev.modelcache.loader.DigestTensorSink;
import dev.modelcache.loader.DiscardTensorSink;
import dev.modelcache.loader.LoadResult;
import dev.modelcache.loader.Loader;
import dev.modelcache.loader.OffHeapTensorSink;
import dev.modelcache.loader.ReadStrategy;
import dev.modelcache.loader.SafetensorsModel;
import dev.modelcache.loader.TensorSink;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Loads the whole benchmark model once per iteration (single shot: the time of one load), cold
 * (pages dropped and checked with mincore before each iteration) or warm, for each strategy
 * into the discard and the off-heap sink. Throughput is the model's bytes over the time.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 5)
@Fork(
    value = 1,
    jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xms1g", "-Xmx1g"})
public class LoaderBenchmark {
  @Param("/work/bench-data/model-4g")
  public String model;

  @Param({"MMAP", "DIRECT", "BUFFERED"})
  public String strategy;

  /**
   * discard; offheap (the sink allocates each tensor); offheap-reused (tensors sliced from a
   * slab allocated and touched before the run); sha256 and crc32c (DigestTensorSink).
   */
  @Param({"discard", "offheap", "offheap-reused", "sha256", "crc32c"})
  public String sink;

  @Param({"cold", "warm"})
  public String cache;

  @Param("8388608")
  public long blockSizeBytes;

  @Param("4")
  public int inFlight;

  private SafetensorsModel opened;
  private Loader loader;
  private TensorSink target;
  private LoadResult last;
  private long baselineRss;
  private Arena slabArena;
  private MemorySegment slab;

  @Setup(Level.Trial)
  @SuppressWarnings("MustBeClosedChecker") // slabArena is closed in the trial's @TearDown
  public void open() throws IOException {
    opened = SafetensorsModel.open(Path.of(model));
    loader = Loader.builder()
        .strategy(ReadStrategy.valueOf(strategy))
        .blockSizeBytes(blockSizeBytes)
        .inFlight(inFlight)
        .build();
    baselineRss = Measurements.procStatusBytes("VmRSS");
    if (sink.equals("offheap-reused")) {
      slabArena = Arena.ofShared();
      slab = slabArena.allocate(opened.dataSizeBytes() + 64L * opened.tensors().size(), 64);
    }
  }

  @Setup(Level.Iteration)
  public void prepare() {
    CacheState.prepare(opened, cache);
    target = switch (sink) {
      case "offheap" -> OffHeapTensorSink.create();
      case "offheap-reused" -> OffHeapTensorSink.create(SegmentAllocator.slicingAllocator(slab));
      case "sha256" -> DigestTensorSink.of(DigestTensorSink.Algorithm.SHA_256);
      case "crc32c" -> DigestTensorSink.of(DigestTensorSink.Algorithm.CRC32C);
      default -> new DiscardTensorSink();
    };
  }

  @Benchmark
  public long load() throws IOException {
    last = loader.load(opened, target);
    return last.bytesLoaded();
  }

  @TearDown(Level.Iteration)
  public void release() {
    if (target instanceof OffHeapTensorSink s) {
      s.close();
    }
    if (last.usedStrategy() != last.requestedStrategy()) {
      throw new IllegalStateException("fell back: " + last.fallbackReason().orElse(""));
    }
  }

  @TearDown(Level.Trial)
  public void report() {
    String ctx = String.join(
        "/", strategy, sink, cache, Long.toString(blockSizeBytes), Integer.toString(inFlight));
    CacheState.record("bytes", ctx, Long.toString(last.bytesLoaded()));
    CacheState.record("pool", ctx, Long.toString(last.bufferPoolBytes()));
    CacheState.record("rss0", ctx, Long.toString(baselineRss));
    CacheState.record("hwm", ctx, Long.toString(Measurements.procStatusBytes("VmHWM")));
    CacheState.record("used", ctx, last.usedStrategy().name().toLowerCase(Locale.ROOT));
    if (slabArena != null) {
      slabArena.close();
    }
  }
}
