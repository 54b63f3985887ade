package dev.modelcache.core;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.lang.System.Logger.Level;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Delivers one download's events to every listener that asked for it, keeping the lifecycle
 * (one started, then one completed or failed) for each, including listeners that join late, and
 * isolating the download from listeners that throw. Builds the {@link DownloadListener} events.
 *
 * <p>Thread-safe. The lifecycle state is guarded by this object's monitor, held while {@code
 * started}, {@code progress}, {@code completed} and {@code failed} are delivered (so they never
 * overlap) and while a late listener is caught up; {@code fileCompleted} is delivered without it.
 */
final class ListenerFanout {

  private static final System.Logger LOG = System.getLogger(ListenerFanout.class.getName());

  private final List<DownloadListener> listeners = new CopyOnWriteArrayList<>();
  /** Listeners that threw already: logged once each, so a broken listener cannot flood the log. */
  private final java.util.Set<DownloadListener> faulty =
      java.util.concurrent.ConcurrentHashMap.newKeySet();

  @GuardedBy("this")
  private DownloadListener.StartedEvent started;

  @GuardedBy("this")
  private DownloadListener.CompletedEvent completed;

  @GuardedBy("this")
  private Exception failure;

  @GuardedBy("this")
  private long lastProgressBytes = -1;
  /** Set once, by {@link #started}, before any other event is sent; read by the event builders. */
  private volatile ModelSource source;

  synchronized void add(DownloadListener listener) {
    if (listener == null || listener == DownloadListener.NONE) {
      return;
    }
    listeners.add(listener);
    DownloadListener.StartedEvent s = started;
    if (s != null) {
      call(listener, l -> l.started(s));
    }
    DownloadListener.CompletedEvent c = completed;
    Exception f = failure;
    if (c != null) {
      call(listener, l -> l.completed(c));
    } else if (f != null) {
      call(listener, l -> l.failed(f));
    }
  }

  /** The first {@link StreamingListener} added, the one that steers the download; null if none. */
  StreamingListener streaming() {
    for (DownloadListener l : listeners) {
      if (l instanceof StreamingListener s) {
        return s;
      }
    }
    return null;
  }

  synchronized boolean isStarted() {
    return started != null;
  }

  synchronized void started(ModelSource source, long bytesTotal) {
    if (started != null) {
      return;
    }
    DownloadListener.StartedEvent event = new DownloadListener.StartedEvent(source, bytesTotal);
    this.source = source;
    this.started = event;
    each(l -> l.started(event));
  }

  /** Delivers progress in order: a report overtaken by a later one from another thread is dropped. */
  synchronized void progress(long bytesDone, long bytesTotal, long bytesPerSecond) {
    if (started == null || bytesDone < lastProgressBytes || completed != null || failure != null) {
      return;
    }
    lastProgressBytes = bytesDone;
    DownloadListener.ProgressEvent event =
        new DownloadListener.ProgressEvent(source, bytesDone, bytesTotal, bytesPerSecond);
    each(l -> l.progress(event));
  }

  void fileCompleted(String path, long sizeBytes) {
    ModelSource s = source;
    if (s == null) {
      return;
    }
    DownloadListener.FileCompletedEvent event =
        new DownloadListener.FileCompletedEvent(s, path, sizeBytes);
    each(l -> l.fileCompleted(event));
  }

  synchronized void completed(CacheEntry entry, DownloadSummary summary) {
    if (started == null || completed != null || failure != null) {
      return;
    }
    DownloadListener.CompletedEvent event = new DownloadListener.CompletedEvent(entry, summary);
    this.completed = event;
    each(l -> l.completed(event));
  }

  synchronized void failed(Exception error) {
    if (started == null || completed != null || failure != null) {
      return;
    }
    this.failure = error;
    each(l -> l.failed(error));
  }

  private void each(Consumer<DownloadListener> event) {
    for (DownloadListener l : listeners) {
      call(l, event);
    }
  }

  private void call(DownloadListener listener, Consumer<DownloadListener> event) {
    try {
      event.accept(listener);
    } catch (RuntimeException | Error e) {
      if (e instanceof VirtualMachineError vme) {
        throw vme;
      }
      if (faulty.add(listener)) {
        LOG.log(
            Level.WARNING,
            "download listener " + listener.getClass().getName()
                + " threw; ignored (further exceptions from it are not logged)",
            e);
      }
    }
  }
}
