package dev.modelcache.core;

import java.util.Locale;
import java.util.Objects;

/**
 * Receives the progress of one download. Every method has an empty default, and each takes one
 * immutable event whose accessors may grow in later versions without breaking implementors.
 *
 * <p>Lifecycle: for each download exactly one {@link #started} and then exactly one of
 * {@link #completed} or {@link #failed}, with {@link #progress} and {@link #fileCompleted} in
 * between. A listener given to a call that joins a download already running (another thread of
 * the same cache) gets the same events, {@code started} first: what it missed of the lifecycle
 * ({@code started}, and {@code completed} or {@code failed} if the download ended meanwhile) is
 * replayed to it on the joining caller's thread, before the call waits; it does not get the
 * {@code progress} and {@code fileCompleted} events sent before it joined. No events are sent when
 * no download happens: the entry was already cached, another process downloaded it, or the source
 * could not be listed (that error reaches the caller directly).
 *
 * <p>Threads: {@code started}, the last {@code progress}, {@code completed} and {@code failed} are
 * called on the thread that runs the download, one of the cache's own (named {@code
 * modelcache-download-N}) for {@link ModelCache#ensure} and {@link ModelCache#prefetch} alike;
 * other {@code progress} and {@code fileCompleted} events on the cache's transfer threads, or on
 * the download's thread for a file that a resumed download kept whole. Events replayed to a
 * listener that joins come on the joining caller's thread. Calls for one download may come from
 * several threads at once, except that {@code started}, {@code progress}, {@code completed} and
 * {@code failed} are never concurrent with each other. Methods must not block. An exception thrown
 * by a listener is logged (once per listener) and ignored: it never breaks the download.
 */
public interface DownloadListener {

  /** A listener that ignores everything. */
  DownloadListener NONE = new DownloadListener() {};

  /**
   * The download began: the source was listed and nothing is fetched yet. Called once, first.
   */
  default void started(StartedEvent event) {}

  /**
   * More bytes are on disk. Sent at most every 50 ms while blocks arrive, in order of {@link
   * ProgressEvent#bytesDone} (a report overtaken by a later one is dropped), and once with every byte on
   * disk just before {@link #completed}; never after {@code completed} or {@code failed}.
   */
  default void progress(ProgressEvent event) {}

  /**
   * One file is fully written, not yet verified or flushed to disk. Sent once per file, when its
   * last block is written; for a resumed download, when the journal shows a file complete (at
   * most twice for such a file: once as its last kept block is re-checked, once as the fetch
   * starts). A file fetched again after it failed its check against the source is sent again.
   */
  default void fileCompleted(FileCompletedEvent event) {}

  /** The entry is verified and committed. Called once, last, unless {@link #failed} was. */
  default void completed(CompletedEvent event) {}

  /**
   * The download failed; {@code error} is also what the caller receives. Called once, last,
   * unless {@link #completed} was.
   */
  default void failed(Exception error) {}

  /** What {@link #started} reports. Immutable. */
  final class StartedEvent {
    private final ModelSource source;
    private final long bytesTotal;

    StartedEvent(ModelSource source, long bytesTotal) {
      this.source = Objects.requireNonNull(source, "source");
      this.bytesTotal = bytesTotal;
    }

    /** The model being downloaded. */
    public ModelSource source() {
      return source;
    }

    /** The model's size in bytes: the sum of the listed files' sizes. */
    public long bytesTotal() {
      return bytesTotal;
    }

    @Override
    public String toString() {
      return "StartedEvent[" + source + ", " + bytesTotal + " bytes]";
    }
  }

  /** What {@link #progress} reports. Immutable. */
  final class ProgressEvent {
    private final ModelSource source;
    private final long bytesDone;
    private final long bytesTotal;
    private final long bytesPerSecond;

    ProgressEvent(ModelSource source, long bytesDone, long bytesTotal, long bytesPerSecond) {
      this.source = Objects.requireNonNull(source, "source");
      this.bytesDone = bytesDone;
      this.bytesTotal = bytesTotal;
      this.bytesPerSecond = bytesPerSecond;
    }

    /** The model being downloaded. */
    public ModelSource source() {
      return source;
    }

    /** Bytes on disk, bytes taken over from an interrupted download included. */
    public long bytesDone() {
      return bytesDone;
    }

    /** The model's size in bytes. */
    public long bytesTotal() {
      return bytesTotal;
    }

    /** The rate of this download so far: bytes it wrote (not those it resumed) per second since it started. */
    public long bytesPerSecond() {
      return bytesPerSecond;
    }

    @Override
    public String toString() {
      return String.format(
          Locale.ROOT,
          "ProgressEvent[%s, %d of %d bytes, %d B/s]",
          source,
          bytesDone,
          bytesTotal,
          bytesPerSecond);
    }
  }

  /** What {@link #fileCompleted} reports. Immutable. */
  final class FileCompletedEvent {
    private final ModelSource source;
    private final String path;
    private final long sizeBytes;

    FileCompletedEvent(ModelSource source, String path, long sizeBytes) {
      this.source = Objects.requireNonNull(source, "source");
      this.path = Objects.requireNonNull(path, "path");
      this.sizeBytes = sizeBytes;
    }

    /** The model being downloaded. */
    public ModelSource source() {
      return source;
    }

    /** The file's path in the manifest, relative to the entry's directory, with {@code /} separators. */
    public String path() {
      return path;
    }

    /** The file's size in bytes. */
    public long sizeBytes() {
      return sizeBytes;
    }

    @Override
    public String toString() {
      return "FileCompletedEvent[" + source + ", " + path + ", " + sizeBytes + " bytes]";
    }
  }

  /** What {@link #completed} reports. Immutable. */
  final class CompletedEvent {
    private final CacheEntry entry;
    private final DownloadSummary summary;

    CompletedEvent(CacheEntry entry, DownloadSummary summary) {
      this.entry = Objects.requireNonNull(entry, "entry");
      this.summary = Objects.requireNonNull(summary, "summary");
    }

    /** The committed entry. */
    public CacheEntry entry() {
      return entry;
    }

    /** What the download did. */
    public DownloadSummary summary() {
      return summary;
    }

    /** The model downloaded. */
    public ModelSource source() {
      return summary.source();
    }

    @Override
    public String toString() {
      return "CompletedEvent[" + entry + ", " + summary + "]";
    }
  }
}
