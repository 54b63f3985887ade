package dev.modelcache.core;

import java.lang.System.Logger.Level;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Delivers one download's events to every listener that asked for it, keeping the lifecycle
 * (one started, then one completed or failed) for each, including listeners that join late, and
 * isolating the download from listeners that throw.
 */
final class ListenerFanout {

  private static final System.Logger LOG = System.getLogger(ListenerFanout.class.getName());

  private final List<DownloadListener> listeners = new CopyOnWriteArrayList<>();
  /** Listeners that threw already: logged once each, so a broken listener cannot flood the log. */
  private final java.util.Set<DownloadListener> faulty = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private ModelSource source;
  private long bytesTotal = -1;
  private CacheEntry completedEntry;
  private DownloadSummary summary;
  private Exception failure;
  private long lastProgressBytes = -1;

  synchronized void add(DownloadListener listener) {
    if (listener == null || listener == DownloadListener.NONE) {
      return;
    }
    listeners.add(listener);
    if (bytesTotal >= 0) {
      call(listener, l -> l.started(source, bytesTotal));
    }
    if (completedEntry != null) {
      call(listener, l -> l.completed(completedEntry, summary));
    } else if (failure != null) {
      call(listener, l -> l.failed(failure));
    }
  }

  synchronized boolean isStarted() {
    return bytesTotal >= 0;
  }

  synchronized void started(ModelSource source, long bytesTotal) {
    if (this.bytesTotal >= 0) {
      return;
    }
    this.source = source;
    this.bytesTotal = bytesTotal;
    each(l -> l.started(source, bytesTotal));
  }

  /** Delivers progress in order: a report overtaken by a later one from another thread is dropped. */
  synchronized void progress(long bytesDone, long bytesTotal, long bytesPerSecond) {
    if (bytesDone < lastProgressBytes || completedEntry != null || failure != null) {
      return;
    }
    lastProgressBytes = bytesDone;
    each(l -> l.progress(bytesDone, bytesTotal, bytesPerSecond));
  }

  void fileCompleted(String path, long sizeBytes) {
    each(l -> l.fileCompleted(path, sizeBytes));
  }

  synchronized void completed(CacheEntry entry, DownloadSummary summary) {
    if (bytesTotal < 0 || completedEntry != null || failure != null) {
      return;
    }
    this.completedEntry = entry;
    this.summary = summary;
    each(l -> l.completed(entry, summary));
  }

  synchronized void failed(Exception error) {
    if (bytesTotal < 0 || completedEntry != null || failure != null) {
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
        LOG.log(Level.WARNING, "download listener " + listener.getClass().getName()
            + " threw; ignored (further exceptions from it are not logged)", e);
      }
    }
  }
}
