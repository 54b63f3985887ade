package dev.modelcache.agent;

import dev.modelcache.agent.kserve.LocalModelInfo;
import java.util.Objects;

/**
 * A model the node must hold.
 *
 * @param statusKey its key in the status ({@code modelName}, or {@code namespace/modelName})
 * @param modelName its folder under {@code models/}
 * @param sourceUri where it comes from, as written in the spec (checked later, per model)
 * @param nodeGroup the node group it belongs to, or null
 */
record DesiredModel(String statusKey, String modelName, String sourceUri, String nodeGroup) {

  DesiredModel {
    Objects.requireNonNull(statusKey, "statusKey");
    Objects.requireNonNull(modelName, "modelName");
    Objects.requireNonNull(sourceUri, "sourceUri");
  }

  /**
   * The folder {@code models/NAME} this model gets besides KServe's hashed one: its name, for a
   * cluster-scoped model (older KServe releases mount that folder). A namespaced model gets only
   * the hashed folder: the same name may be used in several namespaces.
   */
  java.util.Optional<String> folderName() {
    return statusKey.equals(modelName)
        ? java.util.Optional.of(modelName)
        : java.util.Optional.empty();
  }

  static DesiredModel of(LocalModelInfo info) {
    String name = info.modelName() == null ? "" : info.modelName();
    return new DesiredModel(
        info.statusKey() == null ? name : info.statusKey(),
        name,
        info.sourceModelUri() == null ? "" : info.sourceModelUri(),
        info.nodeGroup());
  }
}
