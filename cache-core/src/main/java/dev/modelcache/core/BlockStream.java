package dev.modelcache.core;

import dev.modelcache.core.spi.RemoteObject;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The download's side of a {@link StreamingListener}: which files it streams and in which order,
 * whether a file may be fetched again, and the staged and block-verified events. A download
 * without a streaming listener has {@link #NONE}, which streams nothing.
 *
 * <p>Thread-safe: immutable apart from the flag that logs a throwing listener once.
 */
final class BlockStream {

  private static final System.Logger LOG = System.getLogger(BlockStream.class.getName());

  /** Streams nothing. */
  static final BlockStream NONE = new BlockStream(null, new int[0], new boolean[0]);

  private final StreamingListener listener;
  /** The streamed files' listing indices, in reading order. */
  private final int[] order;
  /** Per listing index: whether the file is streamed. */
  private final boolean[] streamed;

  private final AtomicBoolean complained = new AtomicBoolean();

  private BlockStream(StreamingListener listener, int[] order, boolean[] streamed) {
    this.listener = listener;
    this.order = order;
    this.streamed = streamed;
  }

  /**
   * Asks {@code listener} (may be null) which of {@code objects} (the sorted listing) it streams.
   * A listener that throws, or names no listed file, streams nothing.
   */
  static BlockStream of(StreamingListener listener, List<RemoteObject> objects) {
    if (listener == null) {
      return NONE;
    }
    Map<String, Integer> index = new HashMap<>();
    List<String> paths = new ArrayList<>(objects.size());
    for (int i = 0; i < objects.size(); i++) {
      index.put(objects.get(i).relativePath(), i);
      paths.add(objects.get(i).relativePath());
    }
    List<String> wanted;
    try {
      wanted = List.copyOf(listener.streamOrder(List.copyOf(paths)));
    } catch (RuntimeException e) {
      LOG.log(
          Level.WARNING,
          "streaming listener " + listener.getClass().getName()
              + " threw in streamOrder; the download streams nothing",
          e);
      return NONE;
    }
    boolean[] streamed = new boolean[objects.size()];
    List<Integer> order = new ArrayList<>();
    for (String p : wanted) {
      Integer i = index.get(p);
      if (i != null && !streamed[i]) {
        streamed[i] = true;
        order.add(i);
      }
    }
    if (order.isEmpty()) {
      return NONE;
    }
    return new BlockStream(
        listener, order.stream().mapToInt(Integer::intValue).toArray(), streamed);
  }

  /** Whether some file is streamed. */
  boolean isActive() {
    return order.length > 0;
  }

  /** The streamed files' listing indices, in reading order (a copy). */
  int[] order() {
    return order.clone();
  }

  /**
   * Whether {@code file} may be fetched again after it failed its check against the source: not
   * when it is streamed, since its reader may hold the bytes that failed.
   */
  boolean refetchAllowed(StagedFile file) {
    return !isStreamed(file);
  }

  /** Whether {@code file} is streamed: a reader reads each of its blocks right after its read-back. */
  boolean isStreamed(StagedFile file) {
    return file.index() < streamed.length && streamed[file.index()];
  }

  /** Tells the listener where the streamed files are staged and where the entry will hold them. */
  void staged(ModelSource source, List<StagedFile> files, Path entryData) {
    if (!isActive()) {
      return;
    }
    List<StreamingListener.StagedFileEvent> events = new ArrayList<>(order.length);
    for (int i : order) {
      StagedFile f = files.get(i);
      events.add(new StreamingListener.StagedFileEvent(
          f.path(), f.sizeBytes(), f.target(), entryData.resolve(f.path())));
    }
    long blockBytes = files.isEmpty() ? 0 : files.getFirst().blockBytes();
    StreamingListener.StagedEvent event =
        new StreamingListener.StagedEvent(source, blockBytes, events);
    call(() -> listener.staged(event));
  }

  /** Block {@code block} of {@code file} is on disk and matched the CRC32C received for it. */
  void verified(StagedFile file, int block) {
    if (!isStreamed(file)) {
      return;
    }
    StreamingListener.BlockVerifiedEvent event = new StreamingListener.BlockVerifiedEvent(
        file.path(), file.blockOffset(block), file.blockLength(block));
    call(() -> listener.blockVerified(event));
  }

  private void call(Runnable event) {
    try {
      event.run();
    } catch (RuntimeException e) {
      if (complained.compareAndSet(false, true)) {
        LOG.log(
            Level.WARNING,
            "streaming listener " + listener.getClass().getName()
                + " threw; ignored (further exceptions from it are not logged)",
            e);
      }
    }
  }
}
