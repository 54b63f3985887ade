package dev.modelcache.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The queue order of a download's blocks: every block once, several files written at a time. */
class FetchOrderTest {

  private static int file(long block) {
    return (int) (block >>> 32);
  }

  private static int index(long block) {
    return (int) block;
  }

  @Test
  void fourEqualShardsAreWrittenFourAtATimeAndCompleteOneAfterAnother() {
    long[] order = FetchOrder.of(new long[] {80, 80, 80, 80}, 10, 4);

    assertThat(order).hasSize(32);
    int[] first = firstSlots(order, 4);
    int[] last = lastSlots(order, 4);
    for (int f = 0; f < 4; f++) {
      for (int slot = first[f], b = 0; slot <= last[f]; slot++) {
        if (file(order[slot]) == f) {
          assertThat(index(order[slot]))
              .as("blocks of shard %d in offset order", f)
              .isEqualTo(b++);
        }
      }
    }
    // Each shard starts a quarter of a shard (two blocks' worth of the queue) after the one before
    // and ends after it...
    assertThat(first).containsExactly(0, 3, 8, 15);
    assertThat(last).containsExactly(16, 23, 28, 31);
    // ...and in between all four are written at once.
    for (int slot = 12; slot < 20; slot += 4) {
      assertThat(IntStream.range(slot, slot + 4)
              .map(i -> file(order[i]))
              .distinct()
              .count())
          .isEqualTo(4);
    }
  }

  @Test
  void withinAStretchFilesCompleteOneAfterAnother() {
    // Eight shards in two stretches: shards 0-3 in one, 4-7 in the other.
    long[] sizes = {30, 30, 30, 30, 30, 30, 30, 30};
    long[] order = FetchOrder.of(sizes, 10, 2);

    int[] first = firstSlots(order, sizes.length);
    int[] last = lastSlots(order, sizes.length);
    for (int f = 1; f < 4; f++) {
      assertThat(first[f])
          .as("shard %d starts after shard %d ends", f, f - 1)
          .isGreaterThan(last[f - 1]);
      assertThat(first[f + 4])
          .as("shard %d starts after shard %d ends", f + 4, f + 3)
          .isGreaterThan(last[f + 3]);
    }
    // ...and the two stretches run side by side: shard 4 starts before shard 0 ends.
    assertThat(first[4]).isLessThan(last[0]);
  }

  @Test
  void aFileKeptInOrderStaysInTheStreamItStartsInQueuedFirstToLast() {
    // A small file, then a large one whose digest needs its blocks in order, then another small
    // one.
    long[] sizes = {20, 200, 30};
    boolean[] inOrder = {false, true, false};
    long[] order = FetchOrder.of(sizes, inOrder, 10, 4);

    assertEveryBlockOnce(order, sizes, 10);
    int previous = -1;
    for (long block : order) {
      if (file(block) == 1) {
        assertThat(index(block)).as("blocks of the in-order file").isEqualTo(previous + 1);
        previous = index(block);
      }
    }
    // Unmarked, the same large file is cut across streams and so queued out of order.
    long[] cut = FetchOrder.of(sizes, 10, 4);
    int[] cutIndexes = java.util.Arrays.stream(cut)
        .filter(b -> file(b) == 1)
        .mapToInt(FetchOrderTest::index)
        .toArray();
    int[] sorted = cutIndexes.clone();
    java.util.Arrays.sort(sorted);
    assertThat(cutIndexes).isNotEqualTo(sorted);
  }

  @Test
  void oneFileIsCutIntoStretchesToo() {
    long[] order = FetchOrder.of(new long[] {100}, 10, 4);

    assertEveryBlockOnce(order, new long[] {100}, 10);
    // Stretches of 25 bytes begin in blocks 0, 3 (offset 30), 5 and 8; each starts a little
    // after the one before.
    int[] slotOfBlock = new int[10];
    for (int slot = 0; slot < order.length; slot++) {
      slotOfBlock[index(order[slot])] = slot;
    }
    assertThat(slotOfBlock[0]).isLessThan(slotOfBlock[3]);
    assertThat(slotOfBlock[3]).isLessThan(slotOfBlock[5]);
    assertThat(slotOfBlock[5]).isLessThan(slotOfBlock[8]);
  }

  @Test
  void emptyFilesHaveNoBlocksAndAnEmptyModelNone() {
    assertThat(FetchOrder.of(new long[] {0, 0}, 8, 4)).isEmpty();
    long[] order = FetchOrder.of(new long[] {0, 17, 0, 8}, 8, 4);
    assertEveryBlockOnce(order, new long[] {0, 17, 0, 8}, 8);
  }

  @Test
  void oneStreamIsListingOrder() {
    long[] sizes = {5, 30, 1, 12};
    long[] order = FetchOrder.of(sizes, 10, 1);

    List<Long> expected = new ArrayList<>();
    for (int f = 0; f < sizes.length; f++) {
      for (int b = 0; b * 10L < sizes[f]; b++) {
        expected.add(((long) f << 32) | b);
      }
    }
    assertThat(order)
        .containsExactly(expected.stream().mapToLong(Long::longValue).toArray());
  }

  @Test
  void randomModelsQueueEveryBlockExactlyOnce() {
    SplittableRandom random = new SplittableRandom(20261127);
    for (int trial = 0; trial < 200; trial++) {
      long[] sizes = new long[1 + random.nextInt(40)];
      for (int f = 0; f < sizes.length; f++) {
        sizes[f] = random.nextInt(4) == 0 ? 0 : random.nextLong(1, 5_000);
      }
      long blockBytes = random.nextLong(1, 700);
      int streams = 1 + random.nextInt(9);
      assertEveryBlockOnce(FetchOrder.of(sizes, blockBytes, streams), sizes, blockBytes);
    }
  }

  @Test
  void blocksOfTerabyteModelsDoNotOverflow() {
    long tib = 1L << 40;
    long[] order = FetchOrder.of(new long[] {tib, tib}, 1L << 30, 4);
    assertEveryBlockOnce(order, new long[] {tib, tib}, 1L << 30);
    assertThat(order[0]).isZero();
    int[] first = firstSlots(order, 2);
    assertThat(first[1]).isPositive();
    assertThat(index(order[first[1]])).isZero();
  }

  @Test
  void rejectsNonsense() {
    assertThatThrownBy(() -> FetchOrder.of(new long[] {1}, 0, 4))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> FetchOrder.of(new long[] {1}, 8, 0))
        .isInstanceOf(IllegalArgumentException.class);
  }

  private static int[] firstSlots(long[] order, int files) {
    int[] first = new int[files];
    java.util.Arrays.fill(first, -1);
    for (int slot = 0; slot < order.length; slot++) {
      if (first[file(order[slot])] < 0) {
        first[file(order[slot])] = slot;
      }
    }
    return first;
  }

  private static int[] lastSlots(long[] order, int files) {
    int[] last = new int[files];
    for (int slot = 0; slot < order.length; slot++) {
      last[file(order[slot])] = slot;
    }
    return last;
  }

  private static void assertEveryBlockOnce(long[] order, long[] sizes, long blockBytes) {
    Set<Long> seen = new HashSet<>();
    long expected = 0;
    for (long size : sizes) {
      expected += (size + blockBytes - 1) / blockBytes;
    }
    for (long block : order) {
      int f = file(block);
      assertThat(f).isBetween(0, sizes.length - 1);
      assertThat((long) index(block) * blockBytes).isLessThan(sizes[f]);
      assertThat(seen.add(block))
          .as("block %d of file %d queued twice", index(block), f)
          .isTrue();
    }
    assertThat((long) seen.size()).isEqualTo(expected);
  }
}
