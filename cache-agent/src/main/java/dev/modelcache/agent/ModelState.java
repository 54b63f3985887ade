package dev.modelcache.agent;

import dev.modelcache.agent.kserve.ModelStatus;
import java.util.Objects;

/**
 * What the agent reports for one model: KServe's state and, for errors, why.
 *
 * @param status the state, with KServe's values
 * @param reason a sentence for people (the error, the bytes needed and available), or empty
 */
record ModelState(ModelStatus status, String reason) {

  static final ModelState PENDING = new ModelState(ModelStatus.DOWNLOAD_PENDING, "");
  static final ModelState DOWNLOADING = new ModelState(ModelStatus.DOWNLOADING, "");
  static final ModelState DOWNLOADED = new ModelState(ModelStatus.DOWNLOADED, "");

  ModelState {
    Objects.requireNonNull(status, "status");
    reason = reason == null ? "" : reason;
  }

  static ModelState error(String reason) {
    return new ModelState(ModelStatus.DOWNLOAD_ERROR, reason);
  }
}
