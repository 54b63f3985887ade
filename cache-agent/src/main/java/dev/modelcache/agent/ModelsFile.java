package dev.modelcache.agent;

import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;

/**
 * The models to keep cached without KServe: a YAML or JSON file with a list, either at the top or
 * under {@code models:}, of sources or of {@code {name, source}} objects:
 *
 * <pre>{@code
 * models:
 *   - name: llama-3-8b
 *     source: s3://models/llama-3-8b/
 *   - s3://models/mistral-7b/#2024-06     # named mistral-7b, after its last path segment
 * }</pre>
 */
final class ModelsFile {

  private ModelsFile() {}

  /**
   * Reads {@code file}.
   *
   * @throws IOException if it cannot be read, does not parse, or an item lacks a source or
   *     repeats a name; the message names the file and the item
   */
  static DesiredState read(Path file) throws IOException {
    String text = Files.readString(file, StandardCharsets.UTF_8);
    Object doc;
    try {
      doc = new KubernetesSerialization().unmarshal(text, Object.class);
    } catch (RuntimeException e) {
      throw new IOException(file + " is not YAML or JSON: " + e.getMessage(), e);
    }
    if (doc instanceof Map<?, ?> map && map.containsKey("models")) {
      doc = map.get("models");
    }
    if (doc == null) {
      doc = List.of();
    }
    if (!(doc instanceof List<?> items)) {
      throw new IOException(
          file + ": expected a list of models, or 'models:' with a list, found " + kind(doc));
    }
    List<DesiredModel> models = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (int i = 0; i < items.size(); i++) {
      Object item = items.get(i);
      String source;
      String name;
      if (item instanceof String s) {
        source = s;
        name = lastSegment(s);
      } else if (item instanceof Map<?, ?> m) {
        Object src = m.get("source");
        if (!(src instanceof String s) || s.isBlank()) {
          throw new IOException(file + ": model " + (i + 1) + " has no 'source'");
        }
        source = s;
        name = m.get("name") instanceof String n && !n.isBlank() ? n : lastSegment(s);
      } else {
        throw new IOException(
            file + ": model " + (i + 1) + " is " + kind(item) + ", not a source or {name, source}");
      }
      if (!names.add(name)) {
        throw new IOException(file + ": model " + (i + 1) + " repeats the name '" + name + "'");
      }
      models.add(new DesiredModel(name, name, source, null));
    }
    return new DesiredState(models, OptionalLong.empty(), "");
  }

  /** The last path segment of a source URI, before any {@code #revision}: its model name. */
  static String lastSegment(String uri) {
    String s = uri;
    int hash = s.indexOf('#');
    if (hash >= 0) {
      s = s.substring(0, hash);
    }
    while (s.endsWith("/")) {
      s = s.substring(0, s.length() - 1);
    }
    return s.substring(s.lastIndexOf('/') + 1);
  }

  private static String kind(Object o) {
    return o == null
        ? "empty"
        : o instanceof Map ? "an object" : o instanceof List ? "a list" : "'" + o + "'";
  }
}
