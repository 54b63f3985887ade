package dev.modelcache.core.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.modelcache.core.InvalidObjectKeyException;
import org.junit.jupiter.api.Test;

/** The exact limits of {@link ObjectKeys}: what is accepted right at each boundary, and the rule named just past it. */
class ObjectKeysLimitsTest {
  private static void rejected(String relative, String rule) {
    assertThatThrownBy(() -> ObjectKeys.validate("k", relative))
        .as(relative)
        .isInstanceOfSatisfying(InvalidObjectKeyException.class, e -> {
          assertThat(e.key()).isEqualTo("k");
          assertThat(e.getMessage()).endsWith("': " + rule);
        });
  }

  @Test
  void pathLengthLimit() throws Exception {
    String atLimit = ("s".repeat(200) + "/").repeat(5) + "t".repeat(19);
    assertThat(atLimit).hasSize(1024);
    assertThat(ObjectKeys.validate("k", atLimit)).isSameAs(atLimit);
    rejected(atLimit + "u", "it is longer than 1024 characters");
  }

  @Test
  void segmentLengthLimit() throws Exception {
    assertThat(ObjectKeys.validate("k", "a/" + "s".repeat(255))).endsWith("s");
    rejected("a/" + "s".repeat(256) + "/b", "a path segment is longer than 255 characters");
  }

  @Test
  void emptyPrefixKeepsTheWholeKey() throws Exception {
    assertThat(ObjectKeys.relativePath("", "a/b")).isEqualTo("a/b");
    assertThatThrownBy(() -> ObjectKeys.relativePath("", ""))
        .isInstanceOf(InvalidObjectKeyException.class)
        .hasMessageEndingWith("it names the prefix itself, not a file under it");
    assertThatThrownBy(() -> ObjectKeys.relativePath("p/", "q/x"))
        .isInstanceOf(InvalidObjectKeyException.class)
        .hasMessageEndingWith("it does not start with the prefix 'p/'");
  }

  @Test
  void exactRules() throws Exception {
    rejected("/a", "it is an absolute path");
    rejected("a\\b", "it contains a backslash");
    rejected("a\0", "it contains a NUL character");
    rejected("\u001f", "it contains control character U+001F");
    rejected("a\u0085b", "it contains control character U+0085");
    rejected("a/", "it contains an empty path segment");
    rejected("a/.", "it contains a '.' segment");
    rejected("../a", "it contains a '..' segment");
    rejected("C:", "it starts with a drive letter");
    rejected("z:x", "it starts with a drive letter");
    // Characters that look special but are allowed.
    assertThat(ObjectKeys.validate("k", "a")).isEqualTo("a");
    assertThat(ObjectKeys.validate("k", "1:x")).isEqualTo("1:x");
    assertThat(ObjectKeys.validate("k", "ab:c")).isEqualTo("ab:c");
    assertThat(ObjectKeys.validate("k", "...")).isEqualTo("...");
    assertThat(ObjectKeys.validate("k", ".a/..b/c.")).isEqualTo(".a/..b/c.");
    assertThat(ObjectKeys.validate("k", "a b/\u00e9 \u00a0")).isEqualTo("a b/\u00e9 \u00a0");
  }
}
