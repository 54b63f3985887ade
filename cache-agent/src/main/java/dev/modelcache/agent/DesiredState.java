package dev.modelcache.agent;

import java.util.List;
import java.util.OptionalLong;

/**
 * What the node must hold, as last read from the API server or the models file.
 *
 * @param models the models, in the spec's order
 * @param storageLimitBytes the most the cache may hold (the node group's {@code storageLimit}),
 *     or empty to leave the cache's own limit as it is
 * @param limitSource where the limit comes from, for messages ({@code LocalModelNodeGroup gpu-a})
 */
record DesiredState(List<DesiredModel> models, OptionalLong storageLimitBytes, String limitSource) {

  DesiredState {
    models = List.copyOf(models);
    limitSource = limitSource == null ? "" : limitSource;
  }
}
