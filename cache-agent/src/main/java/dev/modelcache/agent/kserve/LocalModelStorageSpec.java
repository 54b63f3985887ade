package dev.modelcache.agent.kserve;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Map;

/**
 * Credential and storage configuration of a model ({@code LocalModelStorageSpec}).
 *
 * @param key the storage key in the storage-config secret
 * @param parameters overrides of the default storage credentials and configuration
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record LocalModelStorageSpec(
    @JsonProperty("key") String key,
    @JsonProperty("parameters") Map<String, String> parameters) {

  public LocalModelStorageSpec {
    parameters = parameters == null ? null : Map.copyOf(parameters);
  }
}
