package dev.modelcache.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.modelcache.core.spi.RemoteObject;
import dev.modelcache.core.spi.SourceChecksum;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** One file's block state: each block marked once, one completion, a reset that forgets it all. */
class StagedFileTest {

  private static StagedFile file(long sizeBytes, SourceChecksum checksum) {
    return new StagedFile(
        0,
        new RemoteObject("m/a.bin", "a.bin", sizeBytes, null, null, checksum),
        Path.of("/nonexistent/a.bin"),
        10);
  }

  @Test
  void blocksCoverTheFileAndTheLastIsShort() {
    StagedFile f = file(25, null);

    assertThat(f.blockCount()).isEqualTo(3);
    assertThat(f.blockOffset(2)).isEqualTo(20);
    assertThat(f.blockLength(0)).isEqualTo(10);
    assertThat(f.blockLength(2)).isEqualTo(5);
    assertThat(file(0, null).blockCount()).isZero();
    assertThat(file(0, null).isComplete())
        .as("an empty file has nothing left to write")
        .isTrue();
  }

  @Test
  void threadsMarkingEveryBlockTwiceGetExactlyOneCompletion() throws Exception {
    int blocks = 64;
    StagedFile f = file(blocks * 10L, null);
    int threads = 4;
    CyclicBarrier start = new CyclicBarrier(threads);
    AtomicInteger completions = new AtomicInteger();
    AtomicInteger marked = new AtomicInteger();
    List<Thread> started = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int first = t % 2; // two threads walk up, two walk down: every block is marked twice
      started.add(Thread.ofPlatform().start(() -> {
        try {
          start.await();
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
        for (int i = 0; i < blocks; i++) {
          int b = first == 0 ? i : blocks - 1 - i;
          switch (f.markDone(b, 1000 + b)) {
            case COMPLETED -> completions.incrementAndGet();
            case MARKED -> marked.incrementAndGet();
            case ALREADY -> {}
          }
        }
      }));
    }
    for (Thread t : started) {
      t.join();
    }

    assertThat(completions).hasValue(1);
    assertThat(marked).hasValue(blocks - 1);
    assertThat(f.isComplete()).isTrue();
    int[] crcs = f.crcs();
    for (int b = 0; b < blocks; b++) {
      assertThat(crcs[b]).isEqualTo(1000 + b);
      assertThat(f.isDone(b)).isTrue();
    }
  }

  @Test
  void resetForgetsTheBlocksTheTailAndTheOutcomeAndCountsAnotherFetch() {
    StagedFile f = file(20, new SourceChecksum("SHA-256", "00"));
    OrderedReadBack first = f.readBack();
    f.markDone(0, 7);
    f.markDone(1, 8);
    assertThat(f.startTail()).isTrue();
    assertThat(f.startTail()).as("claimed once per round").isFalse();
    f.verified(new SourceChecksum("SHA-256", "00"));

    f.reset();

    assertThat(f.fetchAttempts()).isEqualTo(2);
    assertThat(f.isComplete()).isFalse();
    assertThat(f.isDone(0)).isFalse();
    assertThat(f.crcs()).containsExactly(0, 0);
    assertThat(f.tailStarted()).isFalse();
    assertThat(f.verified()).isNull();
    assertThat(f.readBack()).as("a fresh digest for the next fetch").isNotNull().isNotSameAs(first);
  }

  @Test
  void aMultipartEtagWithTheBlocksForPartsIsCheckedPerBlockOthersInOrder() {
    String hex = "0123456789abcdef0123456789abcdef";
    StagedFile blocks = file(25, SourceChecksum.multipart(hex, 3, 10));
    assertThat(blocks.perBlockCheck()).isNotNull();
    assertThat(blocks.readBack()).isNull();
    assertThat(blocks.verifiedPerBlock()).isTrue();
    var first = blocks.perBlockCheck();
    blocks.reset();
    assertThat(blocks.perBlockCheck()).as("a fresh check for the next fetch").isNotSameAs(first);

    StagedFile larger = file(25, SourceChecksum.multipart(hex, 2, 20));
    assertThat(larger.perBlockCheck()).as("parts of two blocks").isNull();
    assertThat(larger.readBack()).isNotNull();
    assertThat(larger.verifiedPerBlock()).isFalse();
  }

  @Test
  void aWholeFileChecksumIsReadBackInOrderAndAMultipartEtagThatFitsNoPartSizeSaysWhy() {
    assertThat(file(25, null).readBack()).isNull();
    assertThat(file(25, null).verifiedPerBlock()).isTrue();
    assertThat(file(25, new SourceChecksum("SHA-256", "00")).verifiedPerBlock()).isFalse();

    StagedFile odd = file(25, SourceChecksum.multipart("0123456789abcdef0123456789abcdef", 3, 0));
    assertThat(odd.readBack()).isNull();
    assertThat(odd.unverifiedBecause()).contains("3 parts").contains("25 bytes");
  }
}
