package dev.modelcache.agent;

import dev.modelcache.agent.kserve.LocalModelNode;
import dev.modelcache.agent.kserve.LocalModelNodeStatus;
import dev.modelcache.agent.kserve.ModelStatus;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * Writes the models' states into the LocalModelNode's status ({@code status.modelStatus}, KServe's
 * values), through the status subresource, replacing the whole map so that a model dropped from the
 * spec leaves the status too; the controller's writes of the spec are not touched. KServe's status has no field for a reason, so each error's
 * reason goes into the annotation {@value #REASONS_ANNOTATION} (a JSON object by status key),
 * which {@code kubectl describe localmodelnode NODE} shows. Optionally labels the Node with the
 * models it holds, {@value #NODE_LABEL_PREFIX}NAME=true, for scheduling.
 */
final class LocalModelNodeStatusWriter implements StatusSink {

  static final String REASONS_ANNOTATION = "modelcache.dev/model-reasons";
  static final String NODE_LABEL_PREFIX = "model.modelcache.dev/";
  private static final Pattern LABEL_NAME =
      Pattern.compile("[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?");

  private final KubernetesClient client;
  private final String nodeName;
  private final Supplier<LocalModelNode> current;
  private final boolean labelNode;
  private final AgentLog log;
  private final KubernetesSerialization json;
  private Set<String> labelled;

  LocalModelNodeStatusWriter(
      KubernetesClient client,
      String nodeName,
      Supplier<LocalModelNode> current,
      boolean labelNode,
      AgentLog log) {
    this.client = client;
    this.nodeName = nodeName;
    this.current = current;
    this.labelNode = labelNode;
    this.log = log;
    this.json = client.getKubernetesSerialization();
  }

  @Override
  public void publish(Map<String, ModelState> states) throws IOException {
    Map<String, ModelStatus> modelStatus = new LinkedHashMap<>();
    Map<String, String> reasons = new TreeMap<>();
    states.forEach((k, s) -> {
      modelStatus.put(k, s.status());
      if (s.status() == ModelStatus.DOWNLOAD_ERROR && !s.reason().isEmpty()) {
        reasons.put(k, s.reason());
      }
    });
    String reasonsJson = reasons.isEmpty() ? null : json.asJson(reasons);
    try {
      // The reasons first: whoever sees an error state in the status finds its reason already
      // there.
      var resource = client.resources(LocalModelNode.class).withName(nodeName);
      LocalModelNode seen = current.get();
      String had = seen == null || seen.getMetadata().getAnnotations() == null
          ? null
          : seen.getMetadata().getAnnotations().get(REASONS_ANNOTATION);
      if (!java.util.Objects.equals(had, reasonsJson) || seen == null) {
        resource.edit(node -> {
          Map<String, String> annotations = node.getMetadata().getAnnotations() == null
              ? new LinkedHashMap<>()
              : new LinkedHashMap<>(node.getMetadata().getAnnotations());
          if (reasonsJson == null) {
            annotations.remove(REASONS_ANNOTATION);
          } else {
            annotations.put(REASONS_ANNOTATION, reasonsJson);
          }
          node.getMetadata().setAnnotations(annotations);
          return node;
        });
      }
      // The whole map, replaced: a model dropped from the spec leaves the status too.
      resource.editStatus(node -> {
        node.setStatus(new LocalModelNodeStatus(modelStatus));
        return node;
      });
      log.info(
          "status_written",
          "localmodelnode",
          nodeName,
          "models",
          states.size(),
          "errors",
          reasons.size());
      if (labelNode) {
        label(states);
      }
    } catch (KubernetesClientException e) {
      throw new IOException(
          "cannot write the status of LocalModelNode " + nodeName + ": " + e.getMessage(), e);
    }
  }

  private void label(Map<String, ModelState> states) {
    if (labelled == null) {
      Node node = client.nodes().withName(nodeName).get();
      labelled = new HashSet<>();
      if (node != null && node.getMetadata().getLabels() != null) {
        node.getMetadata().getLabels().keySet().stream()
            .filter(k -> k.startsWith(NODE_LABEL_PREFIX))
            .forEach(labelled::add);
      }
    }
    Set<String> now = new HashSet<>();
    states.forEach((key, s) -> {
      String name = key.substring(key.lastIndexOf('/') + 1);
      if (s.status() == ModelStatus.DOWNLOADED && LABEL_NAME.matcher(name).matches()) {
        now.add(NODE_LABEL_PREFIX + name);
      }
    });
    if (now.equals(labelled)) {
      return;
    }
    Set<String> previous = labelled;
    client.nodes().withName(nodeName).edit(node -> {
      Map<String, String> labels = node.getMetadata().getLabels() == null
          ? new LinkedHashMap<>()
          : new LinkedHashMap<>(node.getMetadata().getLabels());
      previous.forEach(labels::remove);
      now.forEach(k -> labels.put(k, "true"));
      node.getMetadata().setLabels(labels);
      return node;
    });
    labelled = now;
    log.info("node_labelled", "node", nodeName, "models", now.size());
  }
}
