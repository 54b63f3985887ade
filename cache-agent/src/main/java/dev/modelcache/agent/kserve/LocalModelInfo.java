package dev.modelcache.agent.kserve;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * One model of a {@link LocalModelNodeSpec}.
 *
 * @param sourceModelUri the original storage URI ({@code s3://bucket/prefix/}, ...)
 * @param modelName the model's name; KServe uses it as the model's folder under {@code models/}
 * @param namespace the namespace of a {@code LocalModelNamespaceCache}; empty or null for a
 *     cluster-scoped {@link LocalModelCache}
 * @param nodeGroup the {@link LocalModelNodeGroup} this model belongs to (optional)
 * @param serviceAccountName the service account for credential lookup (optional)
 * @param storage credential and storage configuration (optional)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record LocalModelInfo(
    @JsonProperty("sourceModelUri") String sourceModelUri,
    @JsonProperty("modelName") String modelName,
    @JsonProperty("namespace") String namespace,
    @JsonProperty("nodeGroup") String nodeGroup,
    @JsonProperty("serviceAccountName") String serviceAccountName,
    @JsonProperty("storage") LocalModelStorageSpec storage) {

  /** A model of a cluster-scoped cache, with the two required fields only. */
  public static LocalModelInfo of(String sourceModelUri, String modelName) {
    return new LocalModelInfo(sourceModelUri, modelName, null, null, null, null);
  }

  /**
   * The key of this model in {@link LocalModelNodeStatus#modelStatus()}, as KServe computes it:
   * the model name, or {@code namespace/modelName} for a namespace-scoped cache.
   */
  public String statusKey() {
    return namespace == null || namespace.isEmpty() ? modelName : namespace + "/" + modelName;
  }
}
