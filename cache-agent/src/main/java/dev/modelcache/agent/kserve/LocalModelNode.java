package dev.modelcache.agent.kserve;

import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * {@code LocalModelNode}: cluster-scoped, one per node, named after the node. The KServe controller
 * writes its spec (the models the node must hold); the node agent writes its status (the state of
 * each of them there). Has a status subresource.
 */
@Group(KServe.GROUP)
@Version(KServe.VERSION)
@Kind("LocalModelNode")
@Plural("localmodelnodes")
@Singular("localmodelnode")
public class LocalModelNode extends CustomResource<LocalModelNodeSpec, LocalModelNodeStatus> {

  private static final long serialVersionUID = 1L;
}
