package dev.modelcache.core.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.modelcache.core.InvalidObjectKeyException;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ObjectKeysTest {

  @Test
  void acceptsOrdinaryNestedKeys() throws Exception {
    assertThat(ObjectKeys.relativePath(
            "models/llama/", "models/llama/model-00001-of-00030.safetensors"))
        .isEqualTo("model-00001-of-00030.safetensors");
    assertThat(ObjectKeys.relativePath("p/", "p/tokenizer/vocab.json"))
        .isEqualTo("tokenizer/vocab.json");
  }

  @Test
  void rejectsEveryUnsafeShapeNamingTheRule() {
    Map<String, String> cases = Map.ofEntries(
        Map.entry("p/../x", "'..' segment"),
        Map.entry("p/a/../../x", "'..' segment"),
        Map.entry("p//etc/passwd", "absolute path"),
        Map.entry("p/a\\b", "backslash"),
        Map.entry("p/a\0b", "NUL"),
        Map.entry("p/a\u001bb", "control character U+001B"),
        Map.entry("p/a\u007fb", "control character U+007F"),
        Map.entry("p/./x", "'.' segment"),
        Map.entry("p/a//b", "empty path segment"),
        Map.entry("p/", "names the prefix itself"),
        Map.entry("p/C:/x", "drive letter"),
        Map.entry("q/x", "does not start with the prefix"),
        Map.entry("p/" + "s".repeat(256), "longer than 255"));
    cases.forEach((key, rule) -> assertThatThrownBy(() -> ObjectKeys.relativePath("p/", key))
        .as(key)
        .isInstanceOf(InvalidObjectKeyException.class)
        .hasMessageContaining(rule));
  }
}
