package dev.modelcache.core;

/**
 * A download in progress or interrupted, as found on disk (any process's). It is never a usable
 * entry: only {@link CacheListing#entries()} are.
 *
 * @param source the model being downloaded
 * @param name the entry name it will commit as
 * @param bytesDone bytes written and recorded in the download's journal
 * @param bytesTotal the model's size
 * @param writerPid the process writing it, or {@code -1} if none owns it (an abandoned download
 *     that the next {@code ensure} resumes)
 * @param writerAlive whether that process is running
 */
public record DownloadStatus(
    ModelSource source, String name, long bytesDone, long bytesTotal, long writerPid, boolean writerAlive) {}
