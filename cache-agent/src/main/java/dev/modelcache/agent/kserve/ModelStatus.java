package dev.modelcache.agent.kserve;

import com.fasterxml.jackson.annotation.JsonProperty;

/** The state of one model on one node ({@code ModelStatus}), with KServe's values. */
public enum ModelStatus {
  /** {@code ""}: no state yet (KServe's enum allows the empty string). */
  @JsonProperty("")
  UNKNOWN(""),
  /** {@code ModelDownloadPending}: waiting for a download slot. */
  @JsonProperty("ModelDownloadPending")
  DOWNLOAD_PENDING("ModelDownloadPending"),
  /** {@code ModelDownloading}: being downloaded. */
  @JsonProperty("ModelDownloading")
  DOWNLOADING("ModelDownloading"),
  /** {@code ModelDownloaded}: complete and verified on the node. */
  @JsonProperty("ModelDownloaded")
  DOWNLOADED("ModelDownloaded"),
  /** {@code ModelDownloadError}: the download failed; the agent says why and retries where that can help. */
  @JsonProperty("ModelDownloadError")
  DOWNLOAD_ERROR("ModelDownloadError");

  private final String value;

  ModelStatus(String value) {
    this.value = value;
  }

  /** The value in KServe's API. */
  public String value() {
    return value;
  }
}
