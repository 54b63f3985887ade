package dev.modelcache.core;

/**
 * A download in progress or interrupted, as found on disk (any process's). It is never a usable
 * entry: only {@link CacheListing#entries()} are.
 *
 * @param source the model being downloaded
 * @param name the entry name it will commit as
 * @param bytesDone bytes written and recorded in the download's journal
 * @param bytesTotal the model's size
 * @param writer the process writing it, as it describes itself ({@link Holder#UNKNOWN} if none
 *     owns it: an abandoned download that the next {@code ensure} resumes)
 * @param writerAlive whether that process is alive, judged as {@link Liveness} says (never by pid)
 * @param spaceReserved whether the download has reserved its space (passed the size cap and the
 *     free-space floor); a live download that has counts against both for every other download
 */
public record DownloadStatus(
    ModelSource source,
    String name,
    long bytesDone,
    long bytesTotal,
    Holder writer,
    boolean writerAlive,
    boolean spaceReserved) {

  /** The writer's pid in its own PID namespace, or {@code -1} if unknown. */
  public long writerPid() {
    return writer.pid();
  }
}
