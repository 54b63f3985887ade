package dev.modelcache.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ModelSourceTest {

  @Test
  void normalizesTheSchemeAndTrailingSlash() {
    assertThat(ModelSource.parse("S3://bucket/models/llama"))
        .isEqualTo(ModelSource.parse("s3://bucket/models/llama/"));
    assertThat(ModelSource.parse("s3://bucket/models/llama/").uri())
        .isEqualTo(URI.create("s3://bucket/models/llama/"));
    assertThat(ModelSource.parse("s3://b/m/#r1"))
        .isEqualTo(ModelSource.parse("s3://b/m/").withRevision("r1"));
    assertThat(ModelSource.parse("file:/mnt/m")).isEqualTo(ModelSource.parse("FILE:///mnt/m/"));
    assertThat(ModelSource.parse("file:/mnt/m").uri()).isEqualTo(URI.create("file:///mnt/m/"));
    assertThat(ModelSource.of(java.nio.file.Path.of("/mnt/a b").toUri()).uri().toString())
        .isEqualTo("file:///mnt/a%20b/");
    assertThat(ModelSource.parse("s3://b/m/#r1").toString()).isEqualTo("s3://b/m/#r1");
  }

  @Test
  void cacheNamesAreSafeDistinctAndStable() {
    List<String> uris = List.of(
        "s3://b/models/llama/",
        "s3://b/models/llama-2/",
        "s3://b/models/llama/#v2",
        "s3://b/a%20b/",
        "file:///mnt/nfs/models/x/",
        "s3://b/" + "x".repeat(300) + "/",
        "s3://b/.hidden/",
        "s3://b/%00nul/",
        "gs://b/models/llama/");
    Set<String> names = new HashSet<>();
    for (String u : uris) {
      String name = ModelSource.parse(u).cacheName();
      assertThat(name)
          .as(u)
          .matches("[A-Za-z0-9_][A-Za-z0-9._@-]*")
          .hasSizeLessThanOrEqualTo(100)
          .doesNotContain("..")
          .doesNotContain("/");
      names.add(name);
    }
    assertThat(names).hasSize(uris.size());
    assertThatThrownBy(() -> ModelSource.parse("s3://b/a%2F..%2F..%2Fetc/"))
        .isInstanceOf(InvalidModelSourceException.class)
        .hasMessageContaining("'..'");
    assertThat(ModelSource.parse("s3://b/models/llama/").cacheName())
        .isEqualTo(ModelSource.parse("s3://b/models/llama").cacheName())
        .startsWith("s3_b_models_llama_-");
  }
}
