package dev.modelcache.agent;

import dev.modelcache.agent.kserve.LocalModelNodeGroup;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeSelectorRequirement;
import io.fabric8.kubernetes.api.model.NodeSelectorTerm;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Finds the node groups of this node and their {@code storageLimit}: the groups the spec's models
 * name ({@code nodeGroup}), else the one given to the agent, else those whose persistent volume's
 * node affinity selects this node (as KServe's own agent does). With several, the smallest limit
 * applies: one cache serves them all.
 */
final class NodeGroupLimit {

  /** The limit and where it came from. */
  record Limit(OptionalLong bytes, String source) {}

  private final KubernetesClient client;
  private final String nodeName;
  private final String configuredGroup;

  NodeGroupLimit(KubernetesClient client, String nodeName, String configuredGroup) {
    this.client = client;
    this.nodeName = nodeName;
    this.configuredGroup = configuredGroup;
  }

  Limit resolve(Collection<String> groupsNamedBySpec) {
    List<LocalModelNodeGroup> groups = new ArrayList<>();
    if (configuredGroup != null) {
      add(groups, configuredGroup);
    } else if (!groupsNamedBySpec.isEmpty()) {
      groupsNamedBySpec.forEach(g -> add(groups, g));
    } else {
      Node node = client.nodes().withName(nodeName).get();
      Map<String, String> labels = node == null || node.getMetadata().getLabels() == null
          ? Map.of()
          : node.getMetadata().getLabels();
      for (LocalModelNodeGroup g :
          client.resources(LocalModelNodeGroup.class).list().getItems()) {
        if (selects(g, labels)) {
          groups.add(g);
        }
      }
    }
    long smallest = Long.MAX_VALUE;
    String from = "";
    for (LocalModelNodeGroup g : groups) {
      Quantity q = g.getSpec() == null ? null : g.getSpec().storageLimit();
      if (q == null) {
        continue;
      }
      long bytes = Quantity.getAmountInBytes(q).longValue();
      if (bytes < smallest) {
        smallest = bytes;
        from = "LocalModelNodeGroup " + g.getMetadata().getName();
      }
    }
    return smallest == Long.MAX_VALUE
        ? new Limit(OptionalLong.empty(), "")
        : new Limit(OptionalLong.of(smallest), from);
  }

  private void add(List<LocalModelNodeGroup> groups, String name) {
    LocalModelNodeGroup g =
        client.resources(LocalModelNodeGroup.class).withName(name).get();
    if (g != null) {
      groups.add(g);
    }
  }

  /** Whether the group's volume node affinity selects a node with these labels and this name. */
  private boolean selects(LocalModelNodeGroup group, Map<String, String> labels) {
    var pv = group.getSpec() == null ? null : group.getSpec().persistentVolumeSpec();
    if (pv == null || pv.getNodeAffinity() == null || pv.getNodeAffinity().getRequired() == null) {
      return false;
    }
    for (NodeSelectorTerm term : pv.getNodeAffinity().getRequired().getNodeSelectorTerms()) {
      boolean all = true;
      for (NodeSelectorRequirement r : term.getMatchExpressions()) {
        all &= matches(r, labels.get(r.getKey()));
      }
      for (NodeSelectorRequirement r : term.getMatchFields()) {
        all &= "metadata.name".equals(r.getKey()) && matches(r, nodeName);
      }
      if (all && !(term.getMatchExpressions().isEmpty() && term.getMatchFields().isEmpty())) {
        return true; // terms are ORed, requirements within one ANDed
      }
    }
    return false;
  }

  private static boolean matches(NodeSelectorRequirement r, String value) {
    List<String> values = r.getValues() == null ? List.of() : r.getValues();
    return switch (r.getOperator()) {
      case "In" -> value != null && values.contains(value);
      case "NotIn" -> value == null || !values.contains(value);
      case "Exists" -> value != null;
      case "DoesNotExist" -> value == null;
      case "Gt", "Lt" ->
        value != null && !values.isEmpty() && compare(value, values.getFirst(), r.getOperator());
      default -> false;
    };
  }

  private static boolean compare(String value, String bound, String op) {
    try {
      long v = Long.parseLong(value);
      long b = Long.parseLong(bound);
      return op.equals("Gt") ? v > b : v < b;
    } catch (NumberFormatException e) {
      return false;
    }
  }
}
