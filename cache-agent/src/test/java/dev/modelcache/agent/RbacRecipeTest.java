package dev.modelcache.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.modelcache.agent.kserve.LocalModelInfo;
import dev.modelcache.agent.kserve.LocalModelNodeGroup;
import dev.modelcache.agent.kserve.LocalModelNodeGroupSpec;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeSpecBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The recipe's ClusterRole grants every call the agent makes, and the recipe grants nothing the
 * agent never uses: the agent runs a scenario that takes every path (a named node group and one
 * found through node affinity, a model in error, node labels) against the mock API server, which
 * records each request; each is mapped to its RBAC (group, resource, verb) and looked up in the rules.
 */
class RbacRecipeTest extends AgentCluster {

  static final Path RBAC = Path.of("..", "examples", "kubernetes", "kserve-agent", "rbac.yaml");
  static final Pattern PATH = Pattern.compile(
      "/(?:api/v1|apis/(?<group>[^/]+)/[^/]+)/(?<resource>[^/?]+)(?:/(?<name>[^/?]+))?(?:/(?<sub>[^/?]+))?(?:\\?(?<query>.*))?");

  /** One permission: {@code group resource verb}. */
  record Call(String group, String resource, String verb) implements Comparable<Call> {
    @Override
    public int compareTo(Call o) {
      return toString().compareTo(o.toString());
    }
  }

  static Call callOf(String method, String path) {
    Matcher m = PATH.matcher(path);
    if (!m.matches()) {
      throw new AssertionError("not an API path: " + method + " " + path);
    }
    String group = m.group("group") == null ? "" : m.group("group");
    String resource = m.group("resource") + (m.group("sub") == null ? "" : "/" + m.group("sub"));
    boolean named = m.group("name") != null;
    String query = m.group("query") == null ? "" : m.group("query");
    String verb = switch (method) {
      case "GET" -> query.contains("watch=true") ? "watch" : named ? "get" : "list";
      case "PATCH" -> "patch";
      case "PUT" -> "update";
      case "POST" -> "create";
      case "DELETE" -> "delete";
      default -> throw new AssertionError("unexpected method " + method + " " + path);
    };
    return new Call(group, resource, verb);
  }

  static Set<Call> granted() throws Exception {
    Set<Call> calls = new TreeSet<>();
    try (InputStream in = Files.newInputStream(RBAC)) {
      List<HasMetadata> objects = io.fabric8.kubernetes.client.utils.Serialization.unmarshal(in);
      for (HasMetadata o : objects) {
        if (o instanceof ClusterRole role) {
          for (PolicyRule rule : role.getRules()) {
            for (String g : rule.getApiGroups()) {
              for (String r : rule.getResources()) {
                for (String v : rule.getVerbs()) {
                  calls.add(new Call(g, r, v));
                }
              }
            }
          }
        }
      }
    }
    return calls;
  }

  @Test
  void theRecipesRulesCoverEveryCallTheAgentMakesAndNoMore() throws Exception {
    Node node = new NodeBuilder()
        .withNewMetadata()
        .withName(NODE)
        .addToLabels("kserve/localmodel", "worker")
        .endMetadata()
        .build();
    client.resource(node).create();
    LocalModelNodeGroup byAffinity = new LocalModelNodeGroup();
    byAffinity.setMetadata(new ObjectMetaBuilder().withName("workers").build());
    byAffinity.setSpec(new LocalModelNodeGroupSpec(
        new Quantity("10Mi"),
        new PersistentVolumeSpecBuilder()
            .withNewNodeAffinity()
            .withNewRequired()
            .addNewNodeSelectorTerm()
            .addNewMatchExpression()
            .withKey("kserve/localmodel")
            .withOperator("In")
            .withValues("worker")
            .endMatchExpression()
            .endNodeSelectorTerm()
            .endRequired()
            .endNodeAffinity()
            .build(),
        null));
    client.resource(byAffinity).create();
    LocalModelNodeGroup elsewhere = new LocalModelNodeGroup();
    elsewhere.setMetadata(new ObjectMetaBuilder().withName("other-nodes").build());
    elsewhere.setSpec(new LocalModelNodeGroupSpec(
        new Quantity("1Mi"),
        new PersistentVolumeSpecBuilder()
            .withNewNodeAffinity()
            .withNewRequired()
            .addNewNodeSelectorTerm()
            .addNewMatchExpression()
            .withKey("kserve/localmodel")
            .withOperator("In")
            .withValues("other")
            .endMatchExpression()
            .endNodeSelectorTerm()
            .endRequired()
            .endNodeAffinity()
            .build(),
        null));
    client.resource(elsewhere).create();
    spec(
        LocalModelInfo.of("s3://models/llama/", "llama"),
        LocalModelInfo.of("gs://bucket/model/", "elsewhere"));
    drain(); // the test's own requests

    startAgent(true);
    eventually(
        "the model is downloaded and the node labelled",
        () -> Files.readString(tmp.resolve("agent.log")).contains("event=node_labelled"));
    agent.close();
    agent = null;
    Set<Call> made = drain();
    assertThat(client.nodes().withName(NODE).get().getMetadata().getLabels())
        .containsEntry("model.modelcache.dev/llama", "true")
        .doesNotContainKey("model.modelcache.dev/elsewhere");
    assertThat(cache.limits().maxBytes())
        .as("the storageLimit of the group whose affinity selects the node")
        .isEqualTo(10L << 20);

    // And with the node group named by the models, as current KServe writes them.
    spec(new LocalModelInfo("s3://models/mistral/", "mistral", null, "other-nodes", null, null));
    drain();
    startAgent(false);
    eventually(
        "the model is refused for want of space",
        () -> Files.readString(tmp.resolve("agent.log")).contains("event=status_written"));
    agent.close();
    agent = null;
    made.addAll(drain());
    assertThat(cache.limits().maxBytes()).as("the named group's limit").isEqualTo(1L << 20);

    Set<Call> granted = granted();
    assertThat(granted).as("every call the agent made is granted").containsAll(made);
    assertThat(made).as("everything granted is used").containsAll(granted);
  }

  Set<Call> drain() throws InterruptedException {
    Set<Call> calls = new TreeSet<>();
    RecordedRequest r;
    while ((r = server.takeRequest(0, TimeUnit.SECONDS)) != null) {
      calls.add(callOf(r.getMethod(), r.getPath()));
    }
    return calls;
  }

  @Test
  void requestsMapToTheirPermissions() {
    assertThat(
            callOf(
                "GET",
                "/apis/serving.kserve.io/v1alpha1/localmodelnodes?fieldSelector=metadata.name%3Dn&watch=true"))
        .isEqualTo(new Call("serving.kserve.io", "localmodelnodes", "watch"));
    assertThat(callOf("PATCH", "/apis/serving.kserve.io/v1alpha1/localmodelnodes/n/status"))
        .isEqualTo(new Call("serving.kserve.io", "localmodelnodes/status", "patch"));
    assertThat(callOf("GET", "/api/v1/nodes/n")).isEqualTo(new Call("", "nodes", "get"));
    assertThat(callOf("GET", "/apis/serving.kserve.io/v1alpha1/localmodelnodegroups?limit=500"))
        .isEqualTo(new Call("serving.kserve.io", "localmodelnodegroups", "list"));
  }
}
