package dev.modelcache.agent.kserve;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * The spec of a {@link LocalModelNode}.
 *
 * @param localModels the models the node must hold: their source URIs and names
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record LocalModelNodeSpec(
    @JsonProperty("localModels") List<LocalModelInfo> localModels) {

  public LocalModelNodeSpec {
    localModels = localModels == null ? List.of() : List.copyOf(localModels);
  }
}
