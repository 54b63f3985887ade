package dev.modelcache.agent.kserve;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimSpec;
import io.fabric8.kubernetes.api.model.PersistentVolumeSpec;
import io.fabric8.kubernetes.api.model.Quantity;

/**
 * The spec of a {@link LocalModelNodeGroup}.
 *
 * @param storageLimit the most storage models may take on each node of the group
 * @param persistentVolumeSpec the volume KServe creates for the models (its node affinity selects
 *     the group's nodes)
 * @param persistentVolumeClaimSpec the claim KServe creates for it, here and in inference namespaces
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record LocalModelNodeGroupSpec(
    @JsonProperty("storageLimit") Quantity storageLimit,
    @JsonProperty("persistentVolumeSpec") PersistentVolumeSpec persistentVolumeSpec,

    @JsonProperty("persistentVolumeClaimSpec")
    PersistentVolumeClaimSpec persistentVolumeClaimSpec) {}
