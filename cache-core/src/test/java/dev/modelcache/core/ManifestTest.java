package dev.modelcache.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.modelcache.core.spi.SourceChecksum;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class ManifestTest {

  private final Path file = Path.of("/cache/entries/x/manifest.json");

  private Manifest sample() {
    return new Manifest(
        ModelSource.parse("s3://bucket/models/llama/#v2"),
        4096,
        Instant.parse("2026-01-02T03:04:05.678Z"),
        List.of(
            new ManifestFile(
                "a/\"quoted\" ünï\u00e9.bin",
                "models/llama/a/\"quoted\" ünï\u00e9.bin",
                5000,
                "etag-1",
                "v-9",
                new SourceChecksum("MD5", "0123456789ABCDEF0123456789abcdef"),
                new int[] {0xdeadbeef, 7}),
            new ManifestFile("empty", "models/llama/empty", 0, null, null, null, new int[0])));
  }

  @Test
  void roundTripsThroughJson() throws Exception {
    Manifest m = sample();
    Manifest back = Manifest.parse(file, m.toJson());
    assertThat(back).isEqualTo(m);
    assertThat(back.sizeBytes()).isEqualTo(5000);
    assertThat(back.file("empty")).isPresent();
    assertThat(back.files().getFirst().checksum().hex())
        .isEqualTo("0123456789abcdef0123456789abcdef");
  }

  @Test
  void everyDefectIsAManifestCorruptExceptionNamingTheFile() {
    String good = sample().toJson();
    List<String> bad = List.of(
        "",
        "not json",
        good.substring(0, good.length() / 2),
        good.replace("\"format\": 1", "\"format\": 2"),
        good.replace("\"blockSizeBytes\": 4096", "\"blockSizeBytes\": \"big\""),
        good.replace("\"path\": \"empty\"", "\"path\": \"../../etc/passwd\""),
        good.replace("\"sizeBytes\": 5000", "\"sizeBytes\": 999999"),
        good.replace("\"createdAt\": \"2026", "\"createdAt\": \"yesterday"),
        good.replace("\"files\": [", "\"files\": {").replace("\n  ]\n}", "\n  }\n}"),
        good + "trailing");
    for (String text : bad) {
      assertThatThrownBy(() -> Manifest.parse(file, text))
          .as(text)
          .isInstanceOf(ManifestCorruptException.class)
          .hasMessageContaining(file.toString());
    }
  }
}
