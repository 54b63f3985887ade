package dev.modelcache.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** {@link FetchOrder#streamed}: headers first, then the streamed files in reading order, then the rest. */
class StreamedFetchOrderTest {

  private static long block(int file, int index) {
    return ((long) file << 32) | index;
  }

  @Test
  void firstBlocksComeFirstThenEachStreamedFileInReadingOrderThenTheOthers() {
    // Files 0 and 2 are streamed, 2 before 0; file 1 (30 bytes) and the empty file 3 are not.
    long[] order =
        FetchOrder.streamed(new long[] {25, 30, 20, 0}, new int[] {2, 0}, new boolean[4], 10, 4);

    assertThat(Arrays.copyOf(order, 7))
        .containsExactly(
            block(2, 0),
            block(0, 0),
            block(2, 1),
            block(0, 1),
            block(0, 2),
            block(1, 0),
            block(1, 1))
        .doesNotHaveDuplicates();
    assertThat(order).hasSize(8);
    assertThat(order[7]).isEqualTo(block(1, 2));
  }

  @Test
  void everyBlockIsQueuedOnceWhateverIsStreamed() {
    long[] sizes = {95, 0, 1, 64, 200, 7};
    long[] order = FetchOrder.streamed(
        sizes, new int[] {4, 1, 0}, new boolean[] {true, false, false, true, false, true}, 16, 4);
    Set<Long> seen = new HashSet<>();
    for (long b : order) {
      assertThat(seen.add(b))
          .as("block %d of file %d once", (int) b, (int) (b >>> 32))
          .isTrue();
    }
    long expected = 0;
    for (long s : sizes) {
      expected += (s + 15) / 16;
    }
    assertThat(order).hasSize((int) expected);
  }

  @Test
  void aFileStreamedTwiceIsRefused() {
    assertThatThrownBy(
            () -> FetchOrder.streamed(new long[] {10, 10}, new int[] {1, 1}, new boolean[2], 4, 4))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("file 1 is streamed twice");
  }
}
