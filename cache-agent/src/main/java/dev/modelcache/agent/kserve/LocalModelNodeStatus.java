package dev.modelcache.agent.kserve;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The status of a {@link LocalModelNode}.
 *
 * @param modelStatus the state of each model of the spec, by {@link LocalModelInfo#statusKey()}
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record LocalModelNodeStatus(
    @JsonProperty("modelStatus") Map<String, ModelStatus> modelStatus) {

  public LocalModelNodeStatus {
    modelStatus = modelStatus == null
        ? Map.of()
        : Collections.unmodifiableMap(new LinkedHashMap<>(modelStatus));
  }
}
