package dev.modelcache.loader;

import dev.modelcache.core.DownloadListener;
import dev.modelcache.core.StreamingListener;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.UnaryOperator;

/**
 * One read-through load's view of its download: which files it streams, their staging files
 * (opened when the download reports them staged, so that they outlive the commit's rename), the
 * ranges of each that are on disk and checked, and how the download ended. The download's threads
 * report into it; the loading thread waits on it for the next range it needs.
 *
 * <p>Thread-safe: everything the reports change is guarded by {@code lock}, whose condition is
 * signalled on each report. Every {@link DownloadListener} event is passed on to the caller's
 * listener after this object recorded it, so a listener that throws cannot keep the loading thread
 * waiting.
 */
final class StagedModel implements StreamingListener {

  /** One streamed file: its staging file, opened, and the blocks of it that are ready. */
  static final class File {
    final StagedFileEvent staged;
    final FileChannel channel;
    final long blockBytes;
    /** Guarded by the model's lock. */
    final BitSet ready = new BitSet();

    File(StagedFileEvent staged, FileChannel channel, long blockBytes) {
      this.staged = staged;
      this.channel = channel;
      this.blockBytes = blockBytes;
    }
  }

  private final DownloadListener downstream;
  private final UnaryOperator<List<String>> fileOrder;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();

  private List<File> files;
  private final Map<String, File> byPath = new HashMap<>();
  /** Why the staging files could not be opened, if they could not. */
  private IOException openFailure;

  private boolean completed;
  private long bytesFetched;
  private Exception failure;
  /** Whether the call that started the download has returned (its future completed). */
  private boolean done;
  /** Whether the load is over: staging files reported after that are not kept open. */
  private boolean closed;

  /**
   * @param downstream the caller's listener, told every {@link DownloadListener} event
   * @param fileOrder given the listing's top-level safetensors files in path order, the order to
   *     load them in (see {@link ReadThrough.Builder#fileOrder})
   */
  StagedModel(DownloadListener downstream, UnaryOperator<List<String>> fileOrder) {
    this.downstream = Objects.requireNonNull(downstream, "downstream");
    this.fileOrder = Objects.requireNonNull(fileOrder, "fileOrder");
  }

  /** The top-level {@code *.safetensors} files of a listing, in path order: what a model directory loads. */
  static List<String> safetensorsFiles(List<String> paths) {
    List<String> out = new ArrayList<>();
    for (String p : paths) {
      if (p.indexOf('/') < 0 && p.endsWith(".safetensors")) {
        out.add(p);
      }
    }
    out.sort(null);
    return out;
  }

  @Override
  public List<String> streamOrder(List<String> paths) {
    List<String> model = safetensorsFiles(paths);
    List<String> ordered = List.copyOf(fileOrder.apply(List.copyOf(model)));
    if (ordered.size() != model.size() || !ordered.containsAll(model)) {
      // Reported by the load, not here: an exception in a listener is only logged.
      throw new IllegalArgumentException(
          "the file order " + ordered + " is not an order of " + model);
    }
    return ordered;
  }

  @Override
  public void staged(StagedEvent event) {
    lock.lock();
    try {
      if (closed) {
        return; // the load ended (interrupted, say) before the download got this far
      }
    } finally {
      lock.unlock();
    }
    List<File> opened = new ArrayList<>();
    IOException failed = null;
    for (StagedFileEvent f : event.files()) {
      try {
        opened.add(new File(
            f, FileChannel.open(f.stagingFile(), StandardOpenOption.READ), event.blockBytes()));
      } catch (IOException e) {
        failed = new IOException(
            "cannot open the staging file " + f.stagingFile() + " of " + f.path() + " of "
                + event.source() + " to read it while it downloads: " + e.getMessage(),
            e);
        break;
      }
    }
    lock.lock();
    try {
      if (!closed) {
        files = List.copyOf(opened);
        for (File f : opened) {
          byPath.put(f.staged.path(), f);
        }
        openFailure = failed;
        changed.signalAll();
        return;
      }
    } finally {
      lock.unlock();
    }
    close(opened);
  }

  @Override
  public void blockVerified(BlockVerifiedEvent event) {
    lock.lock();
    try {
      File f = byPath.get(event.path());
      if (f != null) {
        f.ready.set(Math.toIntExact(event.offsetBytes() / f.blockBytes));
        changed.signalAll();
      }
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void started(StartedEvent event) {
    downstream.started(event);
  }

  @Override
  public void progress(ProgressEvent event) {
    downstream.progress(event);
  }

  @Override
  public void fileCompleted(FileCompletedEvent event) {
    downstream.fileCompleted(event);
  }

  @Override
  public void completed(CompletedEvent event) {
    lock.lock();
    try {
      completed = true;
      bytesFetched = event.summary().bytesFetched();
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    downstream.completed(event);
  }

  @Override
  public void failed(Exception error) {
    lock.lock();
    try {
      failure = error;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    downstream.failed(error);
  }

  /** The call that started (or joined) the download returned. */
  void done() {
    lock.lock();
    try {
      done = true;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Waits until the files are staged (true: this load streams them) or the download call returned
   * without staging anything for this load (false: it joined another download, found the entry
   * committed, or failed; the caller reads the call's outcome).
   */
  boolean awaitStaged() throws IOException {
    lock.lock();
    try {
      while (files == null && openFailure == null && !done) {
        await();
      }
      if (openFailure != null) {
        throw openFailure;
      }
      return files != null;
    } finally {
      lock.unlock();
    }
  }

  /** The streamed files, in the order they are loaded; only after {@link #awaitStaged} returned true. */
  List<File> files() {
    lock.lock();
    try {
      return files;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Waits until the block holding byte {@code position} of {@code file} is ready, and returns
   * where the run of ready bytes from there ends (at most the file's size). Once the download is
   * committed every byte is ready.
   *
   * @throws IOException the download's failure, as the caller of the download receives it
   * @throws InterruptedIOException if the loading thread is interrupted
   */
  long awaitReady(File file, long position) throws IOException {
    long size = file.staged.sizeBytes();
    int block = Math.toIntExact(position / file.blockBytes);
    lock.lock();
    try {
      while (true) {
        if (failure != null) {
          throw asIo(failure);
        }
        if (completed) {
          return size;
        }
        if (file.ready.get(block)) {
          int clear = file.ready.nextClearBit(block);
          return Math.min(size, clear * file.blockBytes);
        }
        if (done) {
          // The call returned with neither event: it cannot have been this download's end.
          throw new IllegalStateException(
              "the download of " + file.staged.path() + " ended unreported");
        }
        await();
      }
    } finally {
      lock.unlock();
    }
  }

  /** Bytes the download fetched, once it completed; 0 before, or when it failed. */
  long bytesFetched() {
    lock.lock();
    try {
      return bytesFetched;
    } finally {
      lock.unlock();
    }
  }

  /** Closes the staging files this load opened, and any reported later. */
  void closeFiles() {
    List<File> open;
    lock.lock();
    try {
      closed = true;
      open = files == null ? List.of() : files;
    } finally {
      lock.unlock();
    }
    close(open);
  }

  private static void close(List<File> open) {
    for (File f : open) {
      try {
        f.channel.close();
      } catch (IOException ignored) {
        // read-only: nothing to lose
      }
    }
  }

  /** Waits for the next report, with the lock held; every caller loops on what it waits for. */
  @SuppressWarnings("WaitNotInLoop") // the loops are the callers'
  private void await() throws InterruptedIOException {
    try {
      changed.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException(
          "interrupted while waiting for the download to read it through");
    }
  }

  private static IOException asIo(Exception e) {
    return e instanceof IOException io ? io : new IOException(e.getMessage(), e);
  }
}
