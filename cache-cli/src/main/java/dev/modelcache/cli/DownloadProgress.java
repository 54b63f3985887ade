package dev.modelcache.cli;

import dev.modelcache.core.DownloadListener;
import dev.modelcache.core.DownloadSummary;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Shows a download's progress, and remembers what it fetched. The display starts only when a
 * download does: a cache hit prints nothing.
 */
final class DownloadProgress implements DownloadListener, AutoCloseable {

  private final ModelcacheCommand app;
  private final String label;
  private final AtomicReference<Progress> progress = new AtomicReference<>();
  private final AtomicReference<DownloadSummary> summary = new AtomicReference<>();

  DownloadProgress(ModelcacheCommand app, String label) {
    this.app = app;
    this.label = label;
  }

  @Override
  public void started(StartedEvent event) {
    Progress p = app.progress(label, event.bytesTotal());
    if (!progress.compareAndSet(null, p)) {
      p.close();
    }
  }

  @Override
  public void progress(ProgressEvent event) {
    Progress p = progress.get();
    if (p != null) {
      p.total(event.bytesTotal());
      p.done(event.bytesDone());
    }
  }

  @Override
  public void completed(CompletedEvent event) {
    DownloadSummary done = event.summary();
    summary.set(done);
    Progress p = progress.get();
    if (p != null) {
      p.done(done.bytesTotal());
    }
  }

  @Override
  public void failed(Exception failure) {
    Progress p = progress.get();
    if (p != null && p.doneBytes() == 0) {
      p.abandon(); // refused before the first byte (no room, no such source): the error says it all
    }
  }

  /** Bytes this process read from the source: 0 on a cache hit or when another process downloaded. */
  long downloadedBytes() {
    DownloadSummary s = summary.get();
    return s == null ? 0 : s.bytesFetched();
  }

  /** Bytes this process wrote with O_DIRECT, bypassing the page cache. */
  long writtenDirectBytes() {
    DownloadSummary s = summary.get();
    return s == null ? 0 : s.bytesWrittenDirect();
  }

  /** Bytes this process read back from the disk after writing them, to check them. */
  long readBackBytes() {
    DownloadSummary s = summary.get();
    return s == null ? 0 : s.bytesReadBack();
  }

  /** Bytes taken over from an interrupted download. */
  long resumedBytes() {
    DownloadSummary s = summary.get();
    return s == null ? 0 : s.bytesResumed();
  }

  @Override
  public void close() {
    Progress p = progress.get();
    if (p != null) {
      p.close();
    }
  }
}
