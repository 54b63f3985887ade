package dev.modelcache.loader;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Zero-copy views, and closing while other threads read. */
class MappedModelTest {
  @TempDir
  Path dir;

  @Test
  void viewsAreZeroCopyReadOnlySlices() throws Exception {
    Path f = dir.resolve("m.safetensors");
    Corpus.awkward(f, 5);
    HeapTensorSink heap = new HeapTensorSink();
    Loader.builder().strategy(ReadStrategy.BUFFERED).build().load(f, heap);
    try (MappedModel m = MappedModel.map(SafetensorsModel.open(f))) {
      MemorySegment big = m.tensor("big");
      assertThat(big.isReadOnly()).isTrue();
      assertThat(big.isMapped()).isTrue();
      assertThat(big.toArray(ValueLayout.JAVA_BYTE)).isEqualTo(heap.arrays().get("big"));
      assertThat(m.tensor("big").address()).isEqualTo(big.address()); // same mapping, no copy
      assertThat(m.tensor("empty").byteSize()).isZero();
      byte[] part = new byte[10];
      m.copy("odd", 4000, MemorySegment.ofArray(part));
      assertThat(part)
          .isEqualTo(java.util.Arrays.copyOfRange(heap.arrays().get("odd"), 4000, 4010));
      assertThatThrownBy(() -> m.copy("odd", 4090, MemorySegment.ofArray(part)))
          .isInstanceOf(IndexOutOfBoundsException.class);
      assertThatThrownBy(() -> m.tensor("nope")).hasMessageContaining("nope");
    }
  }

  @Test
  void accessAfterCloseRaisesClosedModelException() throws Exception {
    Path f = dir.resolve("m.safetensors");
    Corpus.awkward(f, 6);
    MappedModel m = MappedModel.map(SafetensorsModel.open(f));
    m.close();
    m.close(); // idempotent
    assertThat(m.isClosed()).isTrue();
    assertThatThrownBy(() -> m.tensor("big"))
        .isInstanceOf(ClosedModelException.class)
        .hasMessageContaining(f.toString());
    assertThatThrownBy(() -> m.copy("big", 0, MemorySegment.ofArray(new byte[4])))
        .isInstanceOf(ClosedModelException.class);
  }

  @Test
  void closingWhileOtherThreadsReadGivesThemACleanException() throws Exception {
    Path f = dir.resolve("m.safetensors");
    Corpus.awkward(f, 7);
    for (int round = 0; round < 20; round++) {
      MappedModel m = MappedModel.map(SafetensorsModel.open(f));
      int readers = 3;
      CountDownLatch started = new CountDownLatch(readers);
      AtomicReference<Throwable> unexpected = new AtomicReference<>();
      AtomicLong closedSeen = new AtomicLong();
      Thread[] threads = new Thread[readers];
      for (int i = 0; i < readers; i++) {
        threads[i] = new Thread(() -> {
          try (Arena a = Arena.ofConfined()) {
            MemorySegment dst = a.allocate(300_006);
            started.countDown();
            while (true) {
              m.copy("big", 0, dst);
              m.tensor("mid");
            }
          } catch (ClosedModelException expected) {
            closedSeen.incrementAndGet();
          } catch (Throwable t) {
            unexpected.set(t);
          }
        });
        threads[i].start();
      }
      started.await();
      Thread.sleep(5);
      m.close();
      for (Thread t : threads) {
        t.join(10_000);
        assertThat(t.isAlive()).isFalse();
      }
      assertThat(unexpected.get()).isNull();
      assertThat(closedSeen.get()).isEqualTo(readers);
    }
  }

  @Test
  void offHeapSinkAfterClose() throws Exception {
    Path f = dir.resolve("m.safetensors");
    Corpus.awkward(f, 8);
    OffHeapTensorSink sink = OffHeapTensorSink.create();
    Loader.builder().build().load(f, sink);
    assertThat(sink.segment("big").byteSize()).isEqualTo(300_006);
    sink.close();
    assertThatThrownBy(() -> sink.segment("big")).isInstanceOf(ClosedModelException.class);
  }

  @Test
  void offHeapSinkIntoCallerMemory() throws Exception {
    Path f = dir.resolve("m.safetensors");
    SafetensorsFile file = Corpus.awkward(f, 9);
    try (Arena slab = Arena.ofConfined()) {
      MemorySegment region =
          slab.allocate(file.dataSizeBytes() + 64L * file.tensors().size(), 64);
      OffHeapTensorSink sink =
          OffHeapTensorSink.create(java.lang.foreign.SegmentAllocator.slicingAllocator(region));
      Loader.builder().strategy(ReadStrategy.MMAP).build().load(f, sink);
      MemorySegment big = sink.segment("big");
      assertThat(big.address()).isBetween(region.address(), region.address() + region.byteSize());
      byte[] expected = MappedModelTestSupport.bytesOf(f, "big");
      assertThat(big.toArray(ValueLayout.JAVA_BYTE)).isEqualTo(expected);
      sink.close();
      // The caller's memory is still alive and still holds the tensor.
      assertThat(big.toArray(ValueLayout.JAVA_BYTE)).isEqualTo(expected);
    }
  }
}

/** Reads a tensor's bytes the plain way, as the reference. */
final class MappedModelTestSupport {
  private MappedModelTestSupport() {}

  static byte[] bytesOf(Path file, String name) throws java.io.IOException {
    TensorInfo t = SafetensorsFile.open(file).tensor(name).orElseThrow();
    byte[] all = java.nio.file.Files.readAllBytes(file);
    return java.util.Arrays.copyOfRange(
        all, (int) t.fileOffset(), (int) t.dataEnd() + (int) (t.fileOffset() - t.dataBegin()));
  }
}
