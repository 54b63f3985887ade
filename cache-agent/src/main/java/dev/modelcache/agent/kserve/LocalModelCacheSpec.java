package dev.modelcache.agent.kserve;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.List;

/**
 * The spec of a {@link LocalModelCache}.
 *
 * @param sourceModelUri the original storage URI (immutable in KServe)
 * @param modelSize the model's size, checked against the node group's storage limit
 * @param nodeGroups the node groups to cache the model on (at least one)
 * @param serviceAccountName the service account for credential lookup (optional)
 * @param storage credential and storage configuration (optional)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record LocalModelCacheSpec(
    @JsonProperty("sourceModelUri") String sourceModelUri,
    @JsonProperty("modelSize") Quantity modelSize,
    @JsonProperty("nodeGroups") List<String> nodeGroups,
    @JsonProperty("serviceAccountName") String serviceAccountName,
    @JsonProperty("storage") LocalModelStorageSpec storage) {

  public LocalModelCacheSpec {
    nodeGroups = nodeGroups == null ? List.of() : List.copyOf(nodeGroups);
  }
}
