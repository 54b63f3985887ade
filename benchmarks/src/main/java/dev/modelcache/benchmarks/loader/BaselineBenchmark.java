package dev.modelcache.benchmarks.loader;

import dev.modelcache.loader.SafetensorsFile;
import dev.modelcache.loader.SafetensorsModel;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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
 * Peers for {@link LoaderBenchmark}, over the same files and data bytes: a hand-written
 * {@code MemorySegment.copy} of every file's data section out of a fresh mapping (warm), and
 * Chronicle Bytes {@code MappedBytes} reading every file (cold and warm).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 5)
@Fork(
    value = 1,
    jvmArgsAppend = {
      "--enable-native-access=ALL-UNNAMED",
      "-Xms1g",
      "-Xmx1g",
      // Chronicle Bytes 2.27 reaches into JDK internals; found by trial, JDK 25 needs exactly
      // these.
      "--add-opens=java.base/java.lang=ALL-UNNAMED",
      "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
      "--add-opens=java.base/java.nio=ALL-UNNAMED",
      "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
      "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED",
      "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED",
      "--add-exports=jdk.unsupported/sun.misc=ALL-UNNAMED",
      "--sun-misc-unsafe-memory-access=allow"
    })
public class BaselineBenchmark {
  @Param("/work/bench-data/model-4g")
  public String model;

  @Param({"cold", "warm"})
  public String cache;

  private SafetensorsModel opened;
  private final byte[] chunk = new byte[8 << 20];

  /** A destination for the whole model, allocated (and so zeroed and faulted in) before the run. */
  @State(Scope.Benchmark)
  public static class Reused {
    Arena arena;
    MemorySegment destination;

    @Setup(Level.Trial)
    @SuppressWarnings("MustBeClosedChecker") // the arena is closed in free()
    public void allocate(BaselineBenchmark b) {
      arena = Arena.ofShared();
      destination = arena.allocate(b.opened.dataSizeBytes(), 64);
    }

    @TearDown(Level.Trial)
    public void free() {
      arena.close();
    }
  }

  /** An arena per iteration for destinations allocated during the load, like a sink's. */
  @State(Scope.Benchmark)
  public static class Fresh {
    Arena arena;

    @Setup(Level.Iteration)
    @SuppressWarnings("MustBeClosedChecker") // the arena is closed in free()
    public void open() {
      arena = Arena.ofShared();
    }

    @TearDown(Level.Iteration)
    public void free() {
      arena.close();
    }
  }

  @Setup(Level.Trial)
  public void open() throws IOException {
    opened = SafetensorsModel.open(Path.of(model));
  }

  /** Maps a shard's data section, as a hand-written loader would for each load. */
  private static MemorySegment map(SafetensorsFile f, Arena arena) throws IOException {
    try (FileChannel ch = FileChannel.open(f.path(), StandardOpenOption.READ)) {
      return ch.map(FileChannel.MapMode.READ_ONLY, 0, f.sizeBytes(), arena).asSlice(f.dataOffset());
    }
  }

  @Setup(Level.Iteration)
  public void prepare() {
    CacheState.prepare(opened, cache);
  }

  /** Copies every data section into one destination allocated for this load, as a sink would. */
  @Benchmark
  public long segmentCopyFreshDestination(Fresh fresh) throws IOException {
    long total = 0;
    for (SafetensorsFile f : opened.files()) {
      try (Arena mapping = Arena.ofShared()) {
        MemorySegment data = map(f, mapping);
        MemorySegment dst = fresh.arena.allocate(data.byteSize(), 64);
        MemorySegment.copy(data, 0, dst, 0, data.byteSize());
        total += data.byteSize();
      }
    }
    return total;
  }

  /** Copies every data section into a destination allocated and touched before the run. */
  @Benchmark
  public long segmentCopyReusedDestination(Reused reused) throws IOException {
    long total = 0;
    for (SafetensorsFile f : opened.files()) {
      try (Arena mapping = Arena.ofShared()) {
        MemorySegment data = map(f, mapping);
        MemorySegment.copy(data, 0, reused.destination, total, data.byteSize());
        total += data.byteSize();
      }
    }
    return total;
  }

  /** Reads every file's data section through Chronicle MappedBytes (64 MiB chunks) into an 8 MiB array. */
  @Benchmark
  public long chronicleMappedBytes() throws IOException {
    long sum = 0;
    for (SafetensorsFile f : opened.files()) {
      MappedBytes bytes = MappedBytes.mappedBytes(f.path().toFile(), 64L << 20, 0, true);
      try {
        // Relative reads: the absolute read(long, byte[], int, int) of 2.27 fails on a read-only
        // mapping.
        bytes.readPositionRemaining(f.dataOffset(), f.dataSizeBytes());
        while (bytes.readRemaining() > 0) {
          int n = bytes.read(chunk, 0, chunk.length);
          sum += chunk[n - 1];
        }
      } finally {
        bytes.releaseLast();
      }
    }
    return sum;
  }
}
