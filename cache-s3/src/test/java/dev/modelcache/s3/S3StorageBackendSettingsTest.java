package dev.modelcache.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The backend's settings and argument checks, which need no server. */
class S3StorageBackendSettingsTest {

  @Test
  void sourceUriMustBeS3WithABucket() throws Exception {
    try (var backend = S3StorageBackend.builder()
        .endpoint(URI.create("http://127.0.0.1:9"))
        .region("us-east-1")
        .credentialsProvider(S3ProxyServer.staticCredentials())
        .build()) {
      assertThatThrownBy(() -> backend.list(URI.create("file:///tmp/x")))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> backend.list(URI.create("s3:///prefix/")))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("bucket");
    }
  }

  @Test
  void endpointComesFromTheEnvironmentWithS3SpecificFirst() {
    var both = Map.of(
        "AWS_ENDPOINT_URL_S3",
        "http://s3-specific:9000",
        "AWS_ENDPOINT_URL",
        "http://general:9000");
    var resolved = S3Clients.ResolvedSettings.resolve(
        S3StorageBackend.builder().region("eu-west-1").environment(both), both);
    assertThat(resolved.endpoint()).isEqualTo(URI.create("http://s3-specific:9000"));
    assertThat(resolved.pathStyle()).isTrue();
    assertThat(resolved.region()).isEqualTo("eu-west-1");

    var general = Map.of("AWS_ENDPOINT_URL", "http://general:9000");
    assertThat(S3Clients.ResolvedSettings.resolve(S3StorageBackend.builder().region("x"), general)
            .endpoint())
        .isEqualTo(URI.create("http://general:9000"));

    var ignored = Map.of(
        "AWS_ENDPOINT_URL", "http://general:9000", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true");
    var aws = S3Clients.ResolvedSettings.resolve(S3StorageBackend.builder().region("x"), ignored);
    assertThat(aws.endpoint()).isNull();
    assertThat(aws.pathStyle()).isFalse();

    var explicit = S3Clients.ResolvedSettings.resolve(
        S3StorageBackend.builder()
            .region("x")
            .endpoint(URI.create("http://explicit:1"))
            .pathStyle(false),
        both);
    assertThat(explicit.endpoint()).isEqualTo(URI.create("http://explicit:1"));
    assertThat(explicit.pathStyle()).isFalse();
  }

  @Test
  void regionFallsBackToTheCliVariableThenUsEast1WhenNoneIsConfigured() {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        System.getenv("AWS_REGION") == null
            && System.getenv("AWS_DEFAULT_REGION") == null
            && System.getProperty("aws.region") == null
            && !java.nio.file.Files.exists(
                java.nio.file.Path.of(System.getProperty("user.home"), ".aws", "config")),
        "a region is configured on this machine");
    var resolved = S3Clients.ResolvedSettings.resolve(S3StorageBackend.builder(), Map.of());
    assertThat(resolved.region()).isEqualTo("us-east-1");
    var cli = S3Clients.ResolvedSettings.resolve(
        S3StorageBackend.builder(), Map.of("AWS_DEFAULT_REGION", "ap-south-1"));
    assertThat(cli.region()).isEqualTo("ap-south-1");
  }

  @Test
  void builderRejectsContradictionsAndBadValues() {
    assertThatThrownBy(() -> S3StorageBackend.builder()
            .anonymous(true)
            .credentialsProvider(S3ProxyServer.staticCredentials())
            .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("anonymous");
    assertThatThrownBy(() -> S3StorageBackend.builder().maxConnections(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxConnections");
    assertThatThrownBy(() -> S3StorageBackend.builder().listPageSize(1001))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("listPageSize");
    assertThatThrownBy(() -> S3StorageBackend.builder().readTimeout(java.time.Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("readTimeout");
  }
}
