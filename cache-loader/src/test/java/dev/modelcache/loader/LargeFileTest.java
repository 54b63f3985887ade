package dev.modelcache.loader;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A file over 2 GiB, made sparse (a big zero tensor left as a hole) so it costs no disk: long
 * offsets all the way through mmap and direct reads.
 */
class LargeFileTest {
  @TempDir
  static Path dir;

  static Path file;
  static final long BIG = (5L << 29) + 4096 + 3; // 2.5 GiB and a bit, so blocks do not line up
  static final byte[] TAIL = Corpus.bytes(1000, 42);

  @BeforeAll
  static void write() throws IOException {
    file = dir.resolve("large.safetensors");
    SafetensorsWriter.create()
        .tensor("head", Dtype.U8, new long[] {5}, new byte[] {1, 2, 3, 4, 5})
        .zeros("big", Dtype.U8, new long[] {BIG})
        .tensor("tail", Dtype.U8, new long[] {TAIL.length}, TAIL)
        .write(file);
  }

  @AfterAll
  static void dropPages() throws IOException {
    PageCache.drop(file);
  }

  @Test
  void fileIsLargeButSparse() throws IOException {
    assertThat(Files.size(file)).isGreaterThan(1L << 31);
    SafetensorsFile f = SafetensorsFile.open(file);
    assertThat(f.tensor("tail").orElseThrow().fileOffset()).isGreaterThan(Integer.MAX_VALUE);
  }

  @Test
  void mmapViewsReachBeyondTwoGiB() throws IOException {
    try (MappedModel m = MappedModel.map(SafetensorsModel.open(file))) {
      MemorySegment big = m.tensor("big");
      assertThat(big.byteSize()).isEqualTo(BIG);
      assertThat(big.get(ValueLayout.JAVA_BYTE, BIG - 1)).isZero();
      assertThat(m.tensor("tail").toArray(ValueLayout.JAVA_BYTE)).isEqualTo(TAIL);
      byte[] last = new byte[10];
      m.copy("tail", TAIL.length - 10, MemorySegment.ofArray(last));
      assertThat(last).isEqualTo(java.util.Arrays.copyOfRange(TAIL, TAIL.length - 10, TAIL.length));
    }
  }

  /** Checks that chunks tile each tensor and keeps the bytes of the small ones and the end of the big one. */
  static final class EdgeSink implements TensorSink {
    final List<String> order = new ArrayList<>();
    long expectedOffset;
    long bigBytes;
    byte[] tail;
    byte bigLastByte = -1;

    @Override
    public void beginTensor(TensorInfo tensor) {
      order.add(tensor.name());
      expectedOffset = 0;
      if (tensor.name().equals("tail")) {
        tail = new byte[(int) tensor.byteSize()];
      }
    }

    @Override
    public void chunk(TensorInfo tensor, long offsetInTensor, MemorySegment bytes) {
      assertThat(offsetInTensor).isEqualTo(expectedOffset);
      expectedOffset += bytes.byteSize();
      if (tensor.name().equals("big")) {
        bigBytes += bytes.byteSize();
        if (offsetInTensor + bytes.byteSize() == tensor.byteSize()) {
          bigLastByte = bytes.get(ValueLayout.JAVA_BYTE, bytes.byteSize() - 1);
        }
      } else if (tensor.name().equals("tail")) {
        MemorySegment.copy(
            bytes, ValueLayout.JAVA_BYTE, 0, tail, (int) offsetInTensor, (int) bytes.byteSize());
      }
    }

    @Override
    public void endTensor(TensorInfo tensor) {
      assertThat(expectedOffset).isEqualTo(tensor.byteSize());
    }
  }

  @Test
  void directAndMmapLoadsReachTheEnd() throws IOException {
    for (ReadStrategy s : new ReadStrategy[] {ReadStrategy.MMAP, ReadStrategy.DIRECT}) {
      EdgeSink sink = new EdgeSink();
      LoadResult r =
          Loader.builder().strategy(s).blockSizeBytes(32L << 20).build().load(file, sink);
      assertThat(sink.order).containsExactly("head", "big", "tail");
      assertThat(sink.bigBytes).isEqualTo(BIG);
      assertThat(sink.bigLastByte).isZero();
      assertThat(sink.tail).isEqualTo(TAIL);
      assertThat(r.bytesLoaded()).isEqualTo(BIG + 5 + TAIL.length);
      if (s == ReadStrategy.DIRECT) {
        assumeThat(r.usedStrategy()).isEqualTo(ReadStrategy.DIRECT);
      }
    }
  }
}
