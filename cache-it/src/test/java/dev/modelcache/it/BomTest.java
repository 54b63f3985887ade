package dev.modelcache.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/**
 * The BOM names every artifact this build publishes, at the build's version, and nothing else: a
 * new module that is deployed fails here until the BOM lists it.
 */
class BomTest {

  private static final Path ROOT = Path.of(System.getProperty("modelcache.root", ".."));

  @Test
  void bomListsEveryPublishedModuleAtTheProjectVersion() throws Exception {
    Document parent = parse(ROOT.resolve("pom.xml"));
    String version = text(parent.getDocumentElement(), "version");
    Document bom = parse(ROOT.resolve("modelcache-bom/pom.xml"));
    assertThat(text(bom.getDocumentElement(), "version"))
        .as("the BOM's version")
        .isEqualTo(version);
    assertThat(text(bom.getDocumentElement(), "packaging")).isEqualTo("pom");

    List<String> published = new ArrayList<>();
    for (Element module : children(child(parent.getDocumentElement(), "modules"), "module")) {
      Element project = parse(ROOT.resolve(module.getTextContent().strip()).resolve("pom.xml"))
          .getDocumentElement();
      String packaging = text(project, "packaging");
      Element properties = child(project, "properties");
      boolean deployed =
          properties == null || !"true".equals(text(properties, "maven.deploy.skip"));
      if (deployed && (packaging == null || packaging.equals("jar"))) {
        published.add(text(project, "artifactId"));
      }
    }
    assertThat(published)
        .as("published modules")
        .contains("cache-core", "cache-s3", "cache-loader");

    Map<String, String> managed = new TreeMap<>();
    Element management = child(bom.getDocumentElement(), "dependencyManagement");
    for (Element dependency : children(child(management, "dependencies"), "dependency")) {
      assertThat(text(dependency, "groupId")).isEqualTo("dev.modelcache");
      managed.merge(text(dependency, "artifactId"), text(dependency, "version"), (a, b) -> a);
      assertThat(text(dependency, "version"))
          .as("version of %s in the BOM", text(dependency, "artifactId"))
          .isEqualTo("${project.version}");
    }
    assertThat(managed.keySet())
        .as("artifacts the BOM manages")
        .containsExactlyInAnyOrderElementsOf(published);
  }

  private static Document parse(Path pom) throws Exception {
    assertThat(pom).isRegularFile();
    var factory = DocumentBuilderFactory.newInstance();
    factory.setNamespaceAware(false);
    factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
    try (var in = Files.newInputStream(pom)) {
      return factory.newDocumentBuilder().parse(in);
    }
  }

  private static Element child(Element parent, String name) {
    List<Element> found = children(parent, name);
    return found.isEmpty() ? null : found.get(0);
  }

  private static List<Element> children(Element parent, String name) {
    List<Element> found = new ArrayList<>();
    if (parent == null) {
      return found;
    }
    for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element e && e.getTagName().equals(name)) {
        found.add(e);
      }
    }
    return found;
  }

  private static String text(Element parent, String name) {
    Element e = child(parent, name);
    return e == null ? null : e.getTextContent().strip();
  }
}
