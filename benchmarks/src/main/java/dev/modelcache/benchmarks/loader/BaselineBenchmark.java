package dev.modelcache.benchmarks.loader;

import dev.modelcache.loader.SafetensorsFile;
import dev.modelcache.loader.SafetensorsModel;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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
 * Peers for {@link LoaderBenchmark}, over the same files and data bytes: a hand-written
 * {@code MemorySegment.copy} of every file's data section out of a mapping (warm), and Chronicle
 * Bytes {@code MappedBytes} reading every file (cold and warm).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 5)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xms1g", "-Xmx1g",
        // Chronicle Bytes 2.27 reaches into JDK internals; JDK 25 needs these to let it.
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
        "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow"})
public class BaselineBenchmark {
    @Param("/work/bench-data/model-4g")
    public String model;

    @Param({"cold", "warm"})
    public String cache;

    private SafetensorsModel opened;
    private Arena mapArena;
    private final List<MemorySegment> mapped = new ArrayList<>();
    private final byte[] chunk = new byte[8 << 20];

    /** A destination for the whole model, allocated (and so zeroed and faulted in) before the run. */
    @State(Scope.Benchmark)
    public static class Reused {
        Arena arena;
        MemorySegment destination;

        @Setup(Level.Trial)
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
        mapArena = Arena.ofShared();
        for (SafetensorsFile f : opened.files()) {
            try (FileChannel ch = FileChannel.open(f.path(), StandardOpenOption.READ)) {
                mapped.add(ch.map(FileChannel.MapMode.READ_ONLY, 0, f.sizeBytes(), mapArena).asSlice(f.dataOffset()));
            }
        }
    }

    @Setup(Level.Iteration)
    public void prepare() {
        CacheState.prepare(opened, cache);
    }

    @TearDown(Level.Trial)
    public void close() {
        mapArena.close();
    }

    /** Copies every data section into one destination allocated for this load, as a sink would. */
    @Benchmark
    public long segmentCopyFreshDestination(Fresh fresh) {
        long total = 0;
        for (MemorySegment data : mapped) {
            MemorySegment dst = fresh.arena.allocate(data.byteSize(), 64);
            MemorySegment.copy(data, 0, dst, 0, data.byteSize());
            total += data.byteSize();
        }
        return total;
    }

    /** Copies every data section into a destination allocated and touched before the run. */
    @Benchmark
    public long segmentCopyReusedDestination(Reused reused) {
        long total = 0;
        for (MemorySegment data : mapped) {
            MemorySegment.copy(data, 0, reused.destination, total, data.byteSize());
            total += data.byteSize();
        }
        return total;
    }

    /** Reads every file's data section through Chronicle MappedBytes (64 MiB chunks) into an 8 MiB array. */
    @Benchmark
    public long chronicleMappedBytes() throws IOException {
        long sum = 0;
        for (SafetensorsFile f : opened.files()) {
            MappedBytes bytes = MappedBytes.mappedBytes(f.path().toFile(), 64L << 20, 0, true);
            bytes.readLimit(f.sizeBytes()); // a read-only MappedBytes starts with nothing readable
            try {
                for (long pos = f.dataOffset(); pos < f.sizeBytes(); pos += chunk.length) {
                    int n = (int) Math.min(chunk.length, f.sizeBytes() - pos);
                    bytes.read(pos, chunk, 0, n);
                    sum += chunk[n - 1];
                }
            } finally {
                bytes.releaseLast();
            }
        }
        return sum;
    }

}
