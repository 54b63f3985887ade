package dev.modelcache.loader;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Fallback, errors, cancellation, sink-supplied memory and bounded buffering. */
class LoaderBehaviourTest {
  @TempDir
  Path dir;

  private static SafetensorsFile bigish(Path file) throws IOException {
    return SafetensorsWriter.create()
        .tensor("t0", Dtype.F32, new long[] {300_000}, Corpus.bytes(1_200_000, 1))
        .tensor("t1", Dtype.U8, new long[] {777_777}, Corpus.bytes(777_777, 2))
        .write(file);
  }

  /**
   * tmpfs refused O_DIRECT before Linux 6.6 and accepts it since; either way the load must be
   * correct, and a refusal must be reported as a fallback.
   */
  @Test
  void directOnTmpfsIsCorrectAndReportsAnyFallback() throws IOException {
    Path shm = Path.of("/dev/shm");
    assumeThat(Files.isDirectory(shm)).isTrue();
    Path d = Files.createTempDirectory(shm, "loader-test");
    try {
      Path f = d.resolve("m.safetensors");
      bigish(f);
      assertThat(Files.getFileStore(f).type()).isEqualTo("tmpfs");
      DigestTensorSink sink = DigestTensorSink.of(DigestTensorSink.Algorithm.SHA_256);
      LoadResult r = Loader.builder()
          .strategy(ReadStrategy.DIRECT)
          .blockSizeBytes(65536)
          .build()
          .load(f, sink);
      assertThat(r.requestedStrategy()).isEqualTo(ReadStrategy.DIRECT);
      if (refusesODirect(f)) {
        assertThat(r.usedStrategy()).isEqualTo(ReadStrategy.BUFFERED);
        assertThat(r.fallbackReason())
            .hasValueSatisfying(s -> assertThat(s).contains(f.toString()).contains("O_DIRECT"));
      } else {
        assertThat(r.usedStrategy()).isEqualTo(ReadStrategy.DIRECT);
        assertThat(r.fallbackReason()).isEmpty();
      }
      DigestTensorSink reference = DigestTensorSink.of(DigestTensorSink.Algorithm.SHA_256);
      Loader.builder().strategy(ReadStrategy.MMAP).build().load(f, reference);
      assertThat(sink.digests()).isEqualTo(reference.digests()).hasSize(2);
    } finally {
      try (var files = Files.list(d)) {
        for (Path p : files.toList()) {
          Files.delete(p);
        }
      }
      Files.delete(d);
    }
  }

  private static boolean refusesODirect(Path f) {
    try (FileChannel ch =
        FileChannel.open(f, StandardOpenOption.READ, com.sun.nio.file.ExtendedOpenOption.DIRECT)) {
      return ch.size() < 0;
    } catch (IOException | UnsupportedOperationException e) {
      return true;
    }
  }

  /** The kernel's refusal (EINVAL from open) injected at the open call: the load falls back and says why. */
  @Test
  void refusedODirectFallsBackToBufferedReads() throws IOException {
    Path f = dir.resolve("m.safetensors");
    bigish(f);
    DigestTensorSink sink = DigestTensorSink.of(DigestTensorSink.Algorithm.SHA_256);
    LoadResult r = Loader.builder()
        .strategy(ReadStrategy.DIRECT)
        .blockSizeBytes(65536)
        .directOpener(p -> {
          throw new java.nio.file.FileSystemException(p.toString(), null, "Invalid argument");
        })
        .build()
        .load(f, sink);
    assertThat(r.usedStrategy()).isEqualTo(ReadStrategy.BUFFERED);
    assertThat(r.fallbackReason())
        .hasValueSatisfying(s -> assertThat(s)
            .contains(f.toString())
            .contains("refused O_DIRECT")
            .contains("Invalid argument"));
    DigestTensorSink reference = DigestTensorSink.of(DigestTensorSink.Algorithm.SHA_256);
    Loader.builder().strategy(ReadStrategy.MMAP).build().load(f, reference);
    assertThat(sink.digests()).isEqualTo(reference.digests()).hasSize(2);
  }

  @Test
  void directOnExt4DoesNotFallBack() throws IOException {
    Path f = dir.resolve("m.safetensors");
    bigish(f);
    assumeThat(Files.getFileStore(f).type()).isIn("ext4", "ext3", "ext2", "xfs");
    LoadResult r =
        Loader.builder().strategy(ReadStrategy.DIRECT).build().load(f, new DiscardTensorSink());
    assertThat(r.usedStrategy()).isEqualTo(ReadStrategy.DIRECT);
    assertThat(r.fallbackReason()).isEmpty();
  }

  /** Records every call; supplies its own buffers; can fail on a given tensor or be slow. */
  static final class ProbeSink implements TensorSink {
    final List<MemorySegment> supplied = new ArrayList<>();
    final List<MemorySegment> released = new ArrayList<>();
    final Arena own = Arena.ofShared();
    String failOn;
    long sleepMillis;
    int chunksOutsideSupplied;
    int chunks;

    @Override
    public MemorySegment allocateBuffer(long byteSize, long byteAlignment, Arena arena) {
      MemorySegment s = own.allocate(byteSize, byteAlignment);
      supplied.add(s);
      return s;
    }

    @Override
    public void releaseBuffer(MemorySegment buffer) {
      released.add(buffer);
    }

    @Override
    public void beginTensor(TensorInfo tensor) throws IOException {
      if (tensor.name().equals(failOn)) {
        throw new IOException("device out of memory for " + tensor.name());
      }
    }

    @Override
    public void chunk(TensorInfo tensor, long offsetInTensor, MemorySegment bytes) {
      chunks++;
      boolean inside = supplied.stream()
          .anyMatch(s -> bytes.address() >= s.address()
              && bytes.address() + bytes.byteSize() <= s.address() + s.byteSize());
      if (!inside) {
        chunksOutsideSupplied++;
      }
      if (sleepMillis > 0) {
        try {
          Thread.sleep(sleepMillis);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }

    @Override
    public void endTensor(TensorInfo tensor) {}
  }

  @Test
  void readsLandInSinkSuppliedMemoryAndThePoolIsBounded() throws IOException {
    Path f = dir.resolve("m.safetensors");
    bigish(f);
    ProbeSink sink = new ProbeSink();
    sink.sleepMillis = 2; // a slow sink: reads must wait for buffers, not pile up
    LoadResult r = Loader.builder()
        .strategy(ReadStrategy.DIRECT)
        .blockSizeBytes(65536)
        .inFlight(3)
        .build()
        .load(f, sink);
    assertThat(sink.chunks).isGreaterThan(20);
    assertThat(sink.chunksOutsideSupplied).isZero();
    assertThat(sink.supplied).hasSize(4);
    assertThat(sink.released).containsExactlyInAnyOrderElementsOf(sink.supplied);
    assertThat(r.bufferPoolBytes()).isEqualTo(4 * 65536);
    sink.own.close();
  }

  @Test
  void sinkFailureCancelsTheLoadAndIsTheCause() throws IOException {
    Path f = dir.resolve("m.safetensors");
    bigish(f);
    for (ReadStrategy s : ReadStrategy.values()) {
      ProbeSink sink = new ProbeSink();
      sink.failOn = "t1";
      assertThatThrownBy(
              () -> Loader.builder().strategy(s).blockSizeBytes(65536).build().load(f, sink))
          .isInstanceOf(TensorSinkException.class)
          .hasMessageContaining("t1")
          .cause()
          .isInstanceOf(IOException.class)
          .hasMessageContaining("device out of memory");
      assertThat(sink.released).containsExactlyInAnyOrderElementsOf(sink.supplied);
      sink.own.close();
    }
  }

  @Test
  void uncheckedSinkFailureIsTheCauseToo() throws IOException {
    Path f = dir.resolve("m.safetensors");
    bigish(f);
    TensorSink sink = new TensorSink() {
      @Override
      public void beginTensor(TensorInfo tensor) {}

      @Override
      public void chunk(TensorInfo tensor, long offsetInTensor, MemorySegment bytes) {
        throw new IllegalArgumentException("shape not supported");
      }

      @Override
      public void endTensor(TensorInfo tensor) {}
    };
    assertThatThrownBy(() -> Loader.builder().build().load(f, sink))
        .isInstanceOf(TensorSinkException.class)
        .cause()
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void interruptingTheLoaderCancelsIt() throws Exception {
    Path f = dir.resolve("m.safetensors");
    bigish(f);
    for (ReadStrategy s : ReadStrategy.values()) {
      ProbeSink sink = new ProbeSink();
      sink.sleepMillis = s == ReadStrategy.MMAP ? 300 : 20; // mmap: one chunk per tensor
      AtomicReference<Throwable> failure = new AtomicReference<>();
      Thread t = new Thread(() -> {
        try {
          Loader.builder().strategy(s).blockSizeBytes(4096).build().load(f, sink);
        } catch (Throwable e) {
          failure.set(e);
        }
      });
      t.start();
      Thread.sleep(100);
      t.interrupt();
      t.join(10_000);
      assertThat(t.isAlive()).isFalse();
      assertThat(failure.get())
          .as(s.name())
          .isInstanceOfAny(
              InterruptedIOException.class, java.nio.channels.ClosedByInterruptException.class);
      assertThat(sink.released).containsExactlyInAnyOrderElementsOf(sink.supplied);
      sink.own.close();
    }
  }

  @Test
  void fileTruncatedAfterValidationFailsCleanly() throws IOException {
    Path f = dir.resolve("m.safetensors");
    bigish(f);
    SafetensorsModel m = SafetensorsModel.open(f);
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
      ch.truncate(ch.size() - 1000);
    }
    for (ReadStrategy s : ReadStrategy.values()) {
      assertThatThrownBy(
              () -> Loader.builder().strategy(s).build().load(m, new DiscardTensorSink()))
          .isInstanceOf(EOFException.class)
          .hasMessageContaining(f.toString());
    }
  }

  @Test
  void unusableSinkBufferFailsTheLoadAsASinkError() throws IOException {
    Path f = dir.resolve("m.safetensors");
    bigish(f);
    TensorSink heapBuffers = new TensorSink() {
      @Override
      public MemorySegment allocateBuffer(long byteSize, long byteAlignment, Arena arena) {
        return MemorySegment.ofArray(new byte[(int) byteSize]);
      }

      @Override
      public void beginTensor(TensorInfo tensor) {}

      @Override
      public void chunk(TensorInfo tensor, long offsetInTensor, MemorySegment bytes) {}

      @Override
      public void endTensor(TensorInfo tensor) {}
    };
    assertThatThrownBy(() -> Loader.builder()
            .strategy(ReadStrategy.DIRECT)
            .blockSizeBytes(65536)
            .build()
            .load(f, heapBuffers))
        .isInstanceOf(TensorSinkException.class)
        .satisfies(e -> assertThat(((TensorSinkException) e).tensor()).isEmpty())
        .cause()
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("native memory");
  }

  @Test
  void builderChecksItsSettings() {
    assertThatThrownBy(() -> Loader.builder().blockSizeBytes(100))
        .hasMessageContaining("blockSizeBytes");
    assertThatThrownBy(() -> Loader.builder().inFlight(0)).hasMessageContaining("inFlight");
    Loader l = Loader.builder().build();
    assertThat(l.strategy()).isEqualTo(ReadStrategy.DIRECT);
    assertThat(l.blockSizeBytes()).isEqualTo(Loader.DEFAULT_BLOCK_SIZE_BYTES);
  }
}
