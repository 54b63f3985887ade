package dev.modelcache.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.modelcache.core.spi.BackendOptions;
import dev.modelcache.core.spi.RemoteObject;
import dev.modelcache.core.spi.StorageBackend;
import dev.modelcache.core.spi.StorageBackendProvider;
import java.net.URI;
import java.util.List;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

class S3BackendProviderTest {

  @Test
  void serviceLoaderFindsTheS3Scheme() {
    List<StorageBackendProvider> providers =
        ServiceLoader.load(StorageBackendProvider.class).stream()
            .map(ServiceLoader.Provider::get)
            .filter(p -> p.scheme().equals("s3"))
            .toList();
    assertThat(providers).singleElement().isInstanceOf(S3BackendProvider.class);
  }

  @Test
  void unknownAndMalformedOptionsAreRejectedByName() {
    var provider = new S3BackendProvider();
    assertThatThrownBy(() -> provider.create(BackendOptions.NONE.with("secretAccessKey", "x")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("secretAccessKey");
    assertThatThrownBy(() -> provider.create(BackendOptions.NONE.with("pathStyle", "yes")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("pathStyle")
        .hasMessageContaining("yes");
    assertThatThrownBy(() -> provider.create(BackendOptions.NONE.with("maxConnections", "many")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxConnections");
    assertThatThrownBy(() -> provider.create(BackendOptions.NONE.with("endpoint", "not a uri")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("endpoint");
    assertThatThrownBy(() ->
            provider.create(BackendOptions.NONE.with("anonymous", "true").with("profile", "p")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("profile");
  }

  @Test
  void optionsConfigureABackendThatUsesTheDefaultCredentialChain() throws Exception {
    // System properties are the first link of the SDK's default chain.
    System.setProperty("aws.accessKeyId", S3ProxyServer.ACCESS_KEY);
    System.setProperty("aws.secretAccessKey", S3ProxyServer.SECRET_KEY);
    try (var server = new S3ProxyServer()) {
      server.createBucket("provided");
      server.put("provided", "m/a.bin", new byte[] {1, 2, 3});
      server.put("provided", "m/b.bin", new byte[] {4});
      var options = BackendOptions.NONE
          .with("endpoint", server.endpoint().toString())
          .with("region", "us-east-1")
          .with("pathStyle", "true")
          .with("listPageSize", "1")
          .with("maxConnections", "4")
          .with("connectTimeoutMillis", "2000")
          .with("readTimeoutMillis", "5000");
      try (StorageBackend backend = new S3BackendProvider().create(options)) {
        assertThat(backend.scheme()).isEqualTo("s3");
        List<RemoteObject> objects = backend.list(URI.create("s3://provided/m/"));
        assertThat(objects)
            .extracting(RemoteObject::relativePath)
            .containsExactly("a.bin", "b.bin");
        assertThat(backend.toString())
            .contains(server.endpoint().toString())
            .contains("default credential chain")
            .doesNotContain(S3ProxyServer.SECRET_KEY)
            .doesNotContain(S3ProxyServer.ACCESS_KEY);
      }
    } finally {
      System.clearProperty("aws.accessKeyId");
      System.clearProperty("aws.secretAccessKey");
    }
  }
}
