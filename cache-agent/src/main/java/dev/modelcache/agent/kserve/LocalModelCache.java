package dev.modelcache.agent.kserve;

import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * {@code LocalModelCache}: cluster-scoped; a model (source URI and size) to keep on the nodes of
 * one or more node groups. The KServe controller turns it into {@link LocalModelNode} specs; the
 * agent does not read it.
 */
@Group(KServe.GROUP)
@Version(KServe.VERSION)
@Kind("LocalModelCache")
@Plural("localmodelcaches")
@Singular("localmodelcache")
public class LocalModelCache extends CustomResource<LocalModelCacheSpec, LocalModelCacheStatus> {

  private static final long serialVersionUID = 1L;
}
