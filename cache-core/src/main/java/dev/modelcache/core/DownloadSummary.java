package dev.modelcache.core;

import java.time.Duration;

/**
 * What one download did.
 *
 * @param source the model
 * @param bytesTotal the model's size
 * @param bytesFetched bytes read from the source by this download (retries included)
 * @param bytesResumed bytes taken over from an interrupted download, after re-checking them
 * @param bytesWrittenDirect bytes this download wrote with O_DIRECT, bypassing the page cache (0
 *     when direct writes are off or the file system refused them)
 * @param elapsed from start to commit
 */
public record DownloadSummary(
    ModelSource source, long bytesTotal, long bytesFetched, long bytesResumed, long bytesWrittenDirect,
    Duration elapsed) {}
