package dev.modelcache.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The rules of a root's settings file, each with the reason it reports, and the settings' own bounds. */
class CacheSettingsRulesTest {
  @TempDir
  Path root;

  private void invalid(String text, String why) {
    Path file = root.resolve("settings.json");
    assertThatThrownBy(() -> CacheSettings.parse(file, text))
        .as(text)
        .isInstanceOf(CacheRootException.class)
        .hasMessage("cache root " + root + " is unusable: its settings file " + file
            + " is not valid: " + why + " (fix it, or rewrite it with 'modelcache config set')");
  }

  @Test
  void bounds() {
    assertThat(CacheSettings.NONE.withMaxBytes(1).maxBytes()).isEqualTo(OptionalLong.of(1));
    assertThatThrownBy(() -> CacheSettings.NONE.withMaxBytes(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxBytes must be > 0 (or unset for no limit), was 0");
    CacheSettings s = CacheSettings.NONE.withMaxBytes(7).withMinFree(FreeSpace.ofBytes(3));
    assertThat(s.withoutMinFree()).isEqualTo(CacheSettings.NONE.withMaxBytes(7));
    assertThat(s.withoutMaxBytes()).isEqualTo(CacheSettings.NONE.withMinFree(FreeSpace.ofBytes(3)));
    assertThat(s.withoutMinFree().minFree()).isEqualTo(Optional.empty());
  }

  @Test
  void fileRules() {
    invalid("{\"version\": 2}", "its \"version\" is 2, and this version of modelcache reads 1");
    invalid("{\"version\": 0}", "its \"version\" is 0, and this version of modelcache reads 1");
    invalid("{\"version\": \"1\"}", "its \"version\" is 1, and this version of modelcache reads 1");
    invalid("{}", "its \"version\" is null, and this version of modelcache reads 1");
    invalid("[1]", "it is not a JSON object");
    invalid(
        "{\"version\": 1, \"maxBytes\": \"5\"}", "\"maxBytes\" must be a number of bytes, was 5");
    invalid(
        "{\"version\": 1, \"maxBytes\": 0}",
        "\"maxBytes\": maxBytes must be > 0 (or unset for no limit), was 0");
    invalid(
        "{\"version\": 1, \"minFree\": 5}",
        "\"minFree\" must be a string such as \"5%\" or \"53687091200\", was 5");
    invalid(
        "{\"version\": 1, \"minFree\": \"100%\"}",
        "\"minFree\": free space must be at least 0% and below 100% of the disk, was 100.0%");
    invalid(
        "{\"version\": 1, \"max\": 5}",
        "it has the unknown setting \"max\" (known: maxBytes, minFree)");
  }

  @Test
  void writtenFileIsReadableByAllAndReadsBack() throws Exception {
    CacheSettings s = CacheSettings.NONE.withMaxBytes(1000).withMinFree(FreeSpace.ofPercent(2.5));
    s.write(root);
    assertThat(CacheSettings.read(root)).isEqualTo(s);
    assertThat(Files.readString(CacheSettings.file(root)))
        .isEqualTo("{\n  \"version\": 1,\n  \"maxBytes\": 1000,\n  \"minFree\": \"2.5%\"\n}\n");
    int mode = (Integer) Files.getAttribute(CacheSettings.file(root), "unix:mode") & 0777;
    assertThat(mode).isEqualTo(0644);
    assertThat(CacheSettings.read(root.resolve("none"))).isSameAs(CacheSettings.NONE);
    assertThat(CacheSettings.NONE.toJson()).isEqualTo("{\n  \"version\": 1\n}\n");
  }
}
