package dev.modelcache.agent.kserve;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Map;

/**
 * The status of a {@link LocalModelCache}, written by the KServe controller from the nodes'
 * {@link LocalModelNodeStatus}.
 *
 * @param nodeStatus the model's state on each node, by node name
 * @param copies how many nodes hold the model
 * @param inferenceServices the InferenceServices using the model
 * @param llmInferenceServices the LLMInferenceServices using the model
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record LocalModelCacheStatus(
    @JsonProperty("nodeStatus") Map<String, NodeStatus> nodeStatus,
    @JsonProperty("copies") ModelCopies copies,
    @JsonProperty("inferenceServices") List<NamespacedName> inferenceServices,
    @JsonProperty("llmInferenceServices") List<NamespacedName> llmInferenceServices) {

  /**
   * How many nodes hold a model.
   *
   * @param available nodes that have it
   * @param total nodes expected to have it, ready or not
   * @param failed nodes where the download failed
   */
  @JsonIgnoreProperties(ignoreUnknown = true)
  @JsonInclude(JsonInclude.Include.NON_DEFAULT)
  public record ModelCopies(
      @JsonProperty("available") int available,
      @JsonProperty("total") int total,
      @JsonProperty("failed") int failed) {}

  /** A namespace and a name. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  @JsonInclude(JsonInclude.Include.NON_EMPTY)
  public record NamespacedName(
      @JsonProperty("namespace") String namespace,
      @JsonProperty("name") String name) {}
}
