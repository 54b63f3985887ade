package dev.modelcache.agent.kserve;

import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * {@code LocalModelNodeGroup}: cluster-scoped; a group of nodes (the node affinity of its
 * persistent volume spec) and the storage for models on each of them, at most
 * {@link LocalModelNodeGroupSpec#storageLimit()} per node.
 */
@Group(KServe.GROUP)
@Version(KServe.VERSION)
@Kind("LocalModelNodeGroup")
@Plural("localmodelnodegroups")
@Singular("localmodelnodegroup")
public class LocalModelNodeGroup
    extends CustomResource<LocalModelNodeGroupSpec, LocalModelNodeGroupStatus> {

  private static final long serialVersionUID = 1L;
}
