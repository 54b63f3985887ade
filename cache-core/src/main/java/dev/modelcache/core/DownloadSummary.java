package dev.modelcache.core;

import java.time.Duration;

/**
 * What one download did.
 *
 * @param source the model
 * @param bytesTotal the model's size
 * @param bytesFetched bytes read from the source by this download (retries included)
 * @param bytesResumed bytes taken over from an interrupted download, after re-checking them
 * @param elapsed from start to commit
 */
public record DownloadSummary(
    ModelSource source, long bytesTotal, long bytesFetched, long bytesResumed, Duration elapsed) {}
