package dev.modelcache.agent.kserve;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.fabric8.kubernetes.api.model.Quantity;

/**
 * The status of a {@link LocalModelNodeGroup}.
 *
 * @param used storage used on any node of the group
 * @param available storage available on any node of the group
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record LocalModelNodeGroupStatus(
    @JsonProperty("used") Quantity used,
    @JsonProperty("available") Quantity available) {}
