package dev.modelcache.agent.kserve;

import com.fasterxml.jackson.annotation.JsonProperty;

/** The state of a model on one node as a {@link LocalModelCache} reports it ({@code NodeStatus}). */
public enum NodeStatus {
  /** {@code ""}. */
  @JsonProperty("")
  UNKNOWN,
  /** {@code NodeNotReady}. */
  @JsonProperty("NodeNotReady")
  NODE_NOT_READY,
  /** {@code NodeDownloadPending}. */
  @JsonProperty("NodeDownloadPending")
  NODE_DOWNLOAD_PENDING,
  /** {@code NodeDownloading}. */
  @JsonProperty("NodeDownloading")
  NODE_DOWNLOADING,
  /** {@code NodeDownloaded}. */
  @JsonProperty("NodeDownloaded")
  NODE_DOWNLOADED,
  /** {@code NodeDownloadError}. */
  @JsonProperty("NodeDownloadError")
  NODE_DOWNLOAD_ERROR
}
