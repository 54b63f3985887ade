package dev.modelcache.agent;

import dev.modelcache.agent.kserve.LocalModelInfo;
import dev.modelcache.agent.kserve.LocalModelNode;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Follows the {@link LocalModelNode} named after this node with an informer: a list, then a watch
 * that the client re-establishes (listing again) whenever the API server closes it or cannot be
 * reached, and a resync at each interval that hands the cached object over again (which also
 * re-reads the node group's limit). A node without a LocalModelNode must hold nothing.
 */
final class LocalModelNodeSource implements AutoCloseable {

  private final KubernetesClient client;
  private final String nodeName;
  private final NodeGroupLimit limits;
  private final AgentLog log;
  private SharedIndexInformer<LocalModelNode> informer;

  LocalModelNodeSource(
      KubernetesClient client, String nodeName, NodeGroupLimit limits, AgentLog log) {
    this.client = client;
    this.nodeName = nodeName;
    this.limits = limits;
    this.log = log;
  }

  /** Starts following; {@code desired} gets each new state, on the informer's thread. */
  void start(Duration resync, Consumer<DesiredState> desired) {
    informer = client
        .resources(LocalModelNode.class)
        .withName(nodeName)
        .runnableInformer(resync.toMillis());
    informer.addEventHandler(new ResourceEventHandler<>() {
      @Override
      public void onAdd(LocalModelNode node) {
        desired.accept(stateOf(node));
      }

      @Override
      public void onUpdate(LocalModelNode old, LocalModelNode node) {
        desired.accept(stateOf(node));
      }

      @Override
      public void onDelete(LocalModelNode node, boolean finalStateUnknown) {
        log.info("localmodelnode_deleted", "name", nodeName);
        desired.accept(stateOf(null));
      }

      @Override
      public void onNothing() {
        // The first list found no LocalModelNode for this node: nothing to hold.
        if (informer.getStore().list().isEmpty()) {
          desired.accept(stateOf(null));
        }
      }
    });
    informer.start().whenComplete((ignored, error) -> {
      if (error != null) {
        log.error(
            "watch_failed",
            "resource",
            "localmodelnodes/" + nodeName,
            "error",
            AgentLog.describe(error));
      } else {
        log.info("watching", "resource", "localmodelnodes/" + nodeName);
      }
    });
  }

  /** The object as the informer last saw it, or null. */
  LocalModelNode current() {
    return informer == null ? null : informer.getStore().getByKey(nodeName);
  }

  private DesiredState stateOf(LocalModelNode node) {
    List<DesiredModel> models = new ArrayList<>();
    Set<String> groups = new LinkedHashSet<>();
    if (node != null && node.getSpec() != null) {
      for (LocalModelInfo info : node.getSpec().localModels()) {
        models.add(DesiredModel.of(info));
        if (info.nodeGroup() != null && !info.nodeGroup().isEmpty()) {
          groups.add(info.nodeGroup());
        }
      }
    }
    NodeGroupLimit.Limit limit;
    try {
      limit = limits.resolve(groups);
    } catch (RuntimeException e) {
      log.warn("storage_limit_unknown", "error", AgentLog.describe(e));
      limit = new NodeGroupLimit.Limit(java.util.OptionalLong.empty(), "");
    }
    return new DesiredState(models, limit.bytes(), limit.source());
  }

  @Override
  public void close() {
    if (informer != null) {
      informer.close();
    }
  }
}
