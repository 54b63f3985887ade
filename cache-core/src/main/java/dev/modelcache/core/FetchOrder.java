package dev.modelcache.core;

import java.util.Arrays;
import java.util.Comparator;

/**
 * The order in which a download queues its blocks for the transfer threads. Each block is named
 * by one {@code long}, {@code fileIndex << 32 | blockIndex}; {@link #fileOf} and {@link #blockOf}
 * take it apart. Stateless: the methods are pure functions, safe from any thread.
 */
final class FetchOrder {

  private FetchOrder() {}

  /** The file index of {@code block}, one element of an order. */
  static int fileOf(long block) {
    return (int) (block >>> 32);
  }

  /** The block index within its file of {@code block}, one element of an order. */
  static int blockOf(long block) {
    return (int) block;
  }

  /** {@link #of(long[], boolean[], long, int)} with no file kept in one stream. */
  static long[] of(long[] sizes, long blockBytes, int streams) {
    return of(sizes, new boolean[sizes.length], blockBytes, streams);
  }

  /**
   * The order in which blocks are queued, each as {@code fileIndex << 32 | blockIndex}. The files,
   * laid end to end, are cut into {@code streams} equal stretches, and the queue takes the stretches'
   * blocks in turn, nearest their start first. So the transfer threads write into {@code streams}
   * different files at once instead of all into one (writes to one file serialize on its inode
   * lock), while within each stretch files complete one after another and their verify and fsync
   * overlap the fetch. Stretch {@code k} starts {@code k/streams} of a file (of the largest file,
   * at most of a stretch) behind stretch 0, so that equal shards, one per stretch, complete one
   * after another rather than all with the last byte. A file larger than a stretch is written by
   * more than one stream, unless {@code inOrder} marks it: such a file (one whose whole-file
   * digest is computed as its blocks arrive, which needs them in order) stays in the stream where
   * it starts, its blocks queued first to last.
   */
  static long[] of(long[] sizes, boolean[] inOrder, long blockBytes, int streams) {
    if (blockBytes <= 0 || streams < 1) {
      throw new IllegalArgumentException(
          "blockBytes and streams must be positive: " + blockBytes + ", " + streams);
    }
    if (inOrder.length != sizes.length) {
      throw new IllegalArgumentException(
          "one inOrder flag per file: " + inOrder.length + " for " + sizes.length);
    }
    long total = 0;
    long largest = 0;
    int blocks = 0;
    for (long size : sizes) {
      total += size;
      largest = Math.max(largest, size);
      blocks = Math.addExact(blocks, Math.toIntExact((size + blockBytes - 1) / blockBytes));
    }
    long stretch = Math.max(1, (total + streams - 1) / streams);
    long stagger = Math.min(stretch, largest) / streams;
    record Key(long block, long position, int stream) {}
    Key[] keys = new Key[blocks];
    int n = 0;
    long start = 0;
    for (int fi = 0; fi < sizes.length; fi++) {
      int first = (int) Math.min(streams - 1, start / stretch);
      for (long offset = 0; offset < sizes[fi]; offset += blockBytes) {
        long global = start + offset;
        int stream = inOrder[fi] ? first : (int) Math.min(streams - 1, global / stretch);
        keys[n++] = new Key(
            ((long) fi << 32) | (offset / blockBytes),
            global - stream * stretch + stream * stagger,
            stream);
      }
      start += sizes[fi];
    }
    Arrays.sort(keys, Comparator.comparingLong(Key::position).thenComparingInt(Key::stream));
    long[] order = new long[blocks];
    for (int i = 0; i < blocks; i++) {
      order[i] = keys[i].block();
    }
    return order;
  }

  /**
   * The order of a download that streams some files to a reader: first block of each streamed
   * file (where a safetensors header starts), in {@code streamed} order; then the streamed files'
   * other blocks, first to last, file after file in that order, so that the transfer threads
   * fetch the next blocks the reader needs side by side; then the other files' blocks as {@link
   * #of(long[], boolean[], long, int)} orders them. Within each file blocks stay in increasing
   * order, so a read-back in order never waits for a block queued after one held behind it.
   *
   * @param streamed listing indices of the streamed files, each at most once, in reading order
   */
  static long[] streamed(
      long[] sizes, int[] streamed, boolean[] inOrder, long blockBytes, int streams) {
    long[] rest = sizes.clone();
    int first = 0;
    int blocks = 0;
    for (int fi : streamed) {
      if (rest[fi] < 0) {
        throw new IllegalArgumentException("file " + fi + " is streamed twice");
      }
      int n = Math.toIntExact((sizes[fi] + blockBytes - 1) / blockBytes);
      first += n > 0 ? 1 : 0;
      blocks = Math.addExact(blocks, n);
      rest[fi] = -1;
    }
    for (int fi : streamed) {
      rest[fi] = 0;
    }
    long[] others = of(rest, inOrder, blockBytes, streams);
    long[] order = new long[blocks + others.length];
    int heads = 0;
    int n = first;
    for (int fi : streamed) {
      int count = (int) ((sizes[fi] + blockBytes - 1) / blockBytes);
      if (count > 0) {
        order[heads++] = (long) fi << 32;
      }
      for (int b = 1; b < count; b++) {
        order[n++] = ((long) fi << 32) | b;
      }
    }
    System.arraycopy(others, 0, order, n, others.length);
    return order;
  }
}
