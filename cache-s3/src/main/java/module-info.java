/** The {@code s3:} storage backend, on the AWS SDK for Java v2. */
module dev.modelcache.s3 {
  requires transitive dev.modelcache.core;
  requires transitive software.amazon.awssdk.auth;
  requires software.amazon.awssdk.identity.spi;
  requires software.amazon.awssdk.services.s3;
  requires software.amazon.awssdk.http.apache5;
  requires software.amazon.awssdk.http;
  requires software.amazon.awssdk.awscore;
  requires software.amazon.awssdk.core;
  requires software.amazon.awssdk.regions;
  requires software.amazon.awssdk.retries.api;
  // The SDK and its HTTP client are automatic modules, which cannot name what they use; without
  // these an application on the module path fails with NoClassDefFoundError on first use.
  requires jdk.net; // Apache HttpClient 5 sets TCP keep-alive options through jdk.net.Sockets
  requires org.slf4j; // the SDK logs through SLF4J

  exports dev.modelcache.s3;

  provides dev.modelcache.core.spi.StorageBackendProvider with
      dev.modelcache.s3.S3BackendProvider;
}
