package dev.modelcache.benchmarks.coldstart;

import dev.modelcache.benchmarks.Measurements;
import dev.modelcache.loader.DiscardTensorSink;
import dev.modelcache.loader.LoadResult;
import dev.modelcache.loader.Loader;
import dev.modelcache.loader.ReadStrategy;
import dev.modelcache.loader.SafetensorsFile;
import dev.modelcache.loader.SafetensorsModel;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import net.openhft.chronicle.bytes.MappedBytes;
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
 * Load throughput from the local disk against model size: one whole-model load per iteration
 * (single shot), cold or warm, for each read strategy of the loader into the discard sink, and
 * for Chronicle Bytes {@code MappedBytes} as a peer reading the same bytes.
 *
 * <p>Cold: every file's pages are dropped with {@code posix_fadvise(DONTNEED)} before each
 * iteration and {@code mincore} must then show at most 1% resident, or the iteration fails.
 * Warm: the files are read first and must be at least 99% resident. Each trial runs in its own
 * fork, so the peak RSS recorded at its end ({@code VmHWM}) belongs to that model, strategy and
 * state alone. {@code benchmarks/bench loader --jmh} records the times, and its report puts them beside fio.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 3)
@Fork(
    value = 1,
    jvmArgsAppend = {
      "--enable-native-access=ALL-UNNAMED",
      "-Xmx1g",
      // Chronicle Bytes reaches into JDK internals; JDK 25 lets it only with these.
      "--add-opens=java.base/java.lang=ALL-UNNAMED",
      "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
      "--add-opens=java.base/java.io=ALL-UNNAMED",
      "--add-opens=java.base/java.nio=ALL-UNNAMED",
      "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
      "--add-opens=java.base/jdk.internal.misc=ALL-UNNAMED",
      "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED",
      "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED",
      "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED",
      "--add-exports=jdk.unsupported/sun.misc=ALL-UNNAMED",
      "--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
      "--sun-misc-unsafe-memory-access=allow"
    })
public class ScalingBenchmark {
  /** A model directory; the driver passes one per size. */
  @Param("/work/bench-data/suite/model-1g")
  public String model;

  /** A loader strategy, or CHRONICLE for the peer. */
  @Param({"MMAP", "DIRECT", "BUFFERED", "CHRONICLE"})
  public String strategy;

  @Param({"cold", "warm"})
  public String cache;

  private SafetensorsModel opened;
  private List<Path> files;
  private Loader loader;
  private LoadResult last;
  private final byte[] chunk = new byte[8 << 20];

  @Setup(Level.Trial)
  public void open() throws IOException {
    opened = SafetensorsModel.open(Path.of(model));
    files = new ArrayList<>();
    for (SafetensorsFile f : opened.files()) {
      files.add(f.path());
    }
    if (!strategy.equals("CHRONICLE")) {
      loader = Loader.builder().strategy(ReadStrategy.valueOf(strategy)).build();
    }
  }

  @Setup(Level.Iteration)
  public void prepare() throws IOException {
    if (cache.equals("cold")) {
      Residency.drop(files);
    } else {
      Residency.warm(files);
    }
  }

  @Benchmark
  public long load() throws IOException {
    if (loader != null) {
      last = loader.load(opened, new DiscardTensorSink());
      return last.bytesLoaded();
    }
    return chronicle();
  }

  /** Reads every file's data section through MappedBytes (64 MiB chunks) into an 8 MiB array (a copy of every byte). */
  private long chronicle() throws IOException {
    long sum = 0;
    for (SafetensorsFile f : opened.files()) {
      MappedBytes bytes = MappedBytes.mappedBytes(f.path().toFile(), 64L << 20, 0, true);
      try {
        // Chronicle's streaming read: it moves its 64 MiB mapping window along as it goes. (Its
        // positional read(long, byte[], int, int) copies byte by byte and is not a fair peer.)
        bytes.readLimit(f.sizeBytes()); // a read-only MappedBytes starts with nothing readable
        bytes.readPosition(f.dataOffset());
        while (bytes.readRemaining() > 0) {
          int n = bytes.read(chunk);
          sum += chunk[n - 1];
        }
      } finally {
        bytes.releaseLast();
      }
    }
    return sum;
  }

  @TearDown(Level.Iteration)
  public void check() {
    if (last != null && last.usedStrategy() != last.requestedStrategy()) {
      throw new IllegalStateException(
          "fell back to " + last.usedStrategy() + ": " + last.fallbackReason().orElse(""));
    }
  }

  @TearDown(Level.Trial)
  public void report() {
    String ctx = String.join("/", Path.of(model).getFileName().toString(), strategy, cache);
    Residency.record("bytes", ctx, Long.toString(opened.dataSizeBytes()));
    Residency.record("hwm", ctx, Long.toString(Measurements.procStatusBytes("VmHWM")));
    Residency.record("pool", ctx, Long.toString(last == null ? 0 : last.bufferPoolBytes()));
  }
}
