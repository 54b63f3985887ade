package dev.modelcache.s3;

import java.net.URI;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import software.amazon.awssdk.auth.credentials.AnonymousCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.TlsTrustManagersProvider;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;
import software.amazon.awssdk.retries.api.RetryStrategy;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The SDK side of one {@link S3StorageBackend}: the settings resolved from the builder and the
 * environment, the credentials, one Apache 5 connection pool and the two {@link S3Client}s that
 * share it. The {@linkplain #control() control} client keeps the SDK's standard retries (listing
 * and {@code HEAD}, which the engine does not retry); the {@linkplain #data() data} client has
 * them off (ranged reads, which the engine retries itself).
 *
 * <p>Thread-safe: every field is final and the SDK clients are thread-safe. {@link #close()} is
 * called once, by the owning backend, which guards it.
 */
final class S3Clients implements AutoCloseable {

  private static final String STANDARD_CHAIN =
      "the default credential chain (environment, profile, web identity, instance metadata)";

  private final SdkHttpClient http;
  private final S3Client control;
  private final S3Client data;
  /** The provider this object created, closed with it; null when the caller gave one. */
  private final DefaultCredentialsProvider ownedCredentials;

  private final String credentialsSource;
  private final String description;

  /**
   * Resolves the builder's settings and creates the clients. Does no network I/O, except that the
   * SDK's region chain may ask instance metadata when no region is configured anywhere.
   *
   * @throws IllegalArgumentException if an endpoint variable of the environment is not a URI
   */
  static S3Clients open(S3StorageBackend.Builder b) {
    return new S3Clients(b, ResolvedSettings.resolve(b, b.environment));
  }

  private S3Clients(S3StorageBackend.Builder b, ResolvedSettings settings) {
    AwsCredentialsProvider credentials;
    if (b.credentialsProvider != null) {
      credentials = b.credentialsProvider;
      ownedCredentials = null;
      credentialsSource = b.credentialsProvider.getClass().getSimpleName();
    } else if (b.anonymous) {
      credentials = AnonymousCredentialsProvider.create();
      ownedCredentials = null;
      credentialsSource = "anonymous access";
    } else {
      var chain = DefaultCredentialsProvider.builder();
      if (b.profile != null) {
        chain.profileName(b.profile);
      }
      DefaultCredentialsProvider provider = chain.build();
      credentials = provider;
      ownedCredentials = provider;
      credentialsSource =
          b.profile == null ? STANDARD_CHAIN : STANDARD_CHAIN + " with profile '" + b.profile + "'";
    }
    boolean success = false;
    SdkHttpClient httpClient = null;
    S3Client controlClient = null;
    try {
      Apache5HttpClient.Builder httpBuilder = Apache5HttpClient.builder();
      TlsTrustManagersProvider trust = trustFor(settings.endpoint);
      if (trust != null) {
        httpBuilder.tlsTrustManagersProvider(trust);
      }
      httpClient = httpBuilder
          .maxConnections(b.maxConnections)
          .connectionTimeout(b.connectTimeout)
          .socketTimeout(b.readTimeout)
          // Waiting for a pooled connection is queueing, not failure: allow a long wait.
          .connectionAcquisitionTimeout(b.readTimeout.multipliedBy(4))
          .tcpKeepAlive(true)
          .build();
      controlClient =
          client(httpClient, credentials, settings, AwsRetryStrategy.standardRetryStrategy());
      this.data = client(httpClient, credentials, settings, AwsRetryStrategy.doNotRetry());
      this.control = controlClient;
      this.http = httpClient;
      success = true;
    } finally {
      if (!success) {
        if (controlClient != null) {
          controlClient.close();
        }
        if (httpClient != null) {
          httpClient.close();
        }
        if (ownedCredentials != null) {
          ownedCredentials.close();
        }
      }
    }
    this.description = String.format(
        Locale.ROOT,
        "endpoint=%s, region=%s, pathStyle=%s, credentials=%s,"
            + " maxConnections=%d, connectTimeout=%s, readTimeout=%s",
        settings.endpoint == null ? "AWS" : settings.endpoint,
        settings.region,
        settings.pathStyle,
        credentialsSource,
        b.maxConnections,
        b.connectTimeout,
        b.readTimeout);
  }

  private static S3Client client(
      SdkHttpClient http,
      AwsCredentialsProvider credentials,
      ResolvedSettings settings,
      RetryStrategy retries) {
    var builder = S3Client.builder()
        .httpClient(http)
        .credentialsProvider(credentials)
        .region(Region.of(settings.region))
        .forcePathStyle(settings.pathStyle)
        .overrideConfiguration(o -> o.retryStrategy(retries));
    if (settings.endpoint != null) {
      builder.endpointOverride(settings.endpoint);
    } else {
      // On AWS itself, follow a bucket to its region instead of failing with a redirect.
      builder.crossRegionAccessEnabled(true);
    }
    return builder.build();
  }

  /** The client for listing and {@code HEAD}: the SDK's standard retries (3 attempts). */
  S3Client control() {
    return control;
  }

  /** The client for ranged reads: no SDK retries, the engine owns them. */
  S3Client data() {
    return data;
  }

  /** Where credentials come from, for messages: a chain's description or a class name, never a secret. */
  String credentialsSource() {
    return credentialsSource;
  }

  /** Closes both clients, the connection pool and any credential provider created here. */
  @Override
  public void close() {
    try {
      data.close();
      control.close();
    } finally {
      http.close();
      if (ownedCredentials != null) {
        ownedCredentials.close();
      }
    }
  }

  /**
   * The trust managers for a client of {@code endpoint}: for a plain-HTTP endpoint the JDK's
   * default ones built on first use ({@link LazyTrustManagers}), since no connection there needs
   * them; null (the HTTP client's defaults, built at once) for HTTPS and for AWS itself.
   */
  static TlsTrustManagersProvider trustFor(URI endpoint) {
    return endpoint != null && "http".equalsIgnoreCase(endpoint.getScheme())
        ? new LazyTrustManagers()
        : null;
  }

  /** The endpoint, region, addressing, where credentials come from and pool settings; never secrets. */
  @Override
  public String toString() {
    return description;
  }

  /** Settings after defaults and the environment were applied. */
  record ResolvedSettings(URI endpoint, String region, boolean pathStyle) {

    static ResolvedSettings resolve(S3StorageBackend.Builder b, Map<String, String> environment) {
      URI endpoint = b.endpoint;
      if (endpoint == null
          && !"true".equalsIgnoreCase(environment.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"))) {
        for (String variable : List.of("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")) {
          String value = environment.get(variable);
          if (value != null && !value.isBlank()) {
            try {
              endpoint = URI.create(value.strip());
            } catch (IllegalArgumentException e) {
              throw new IllegalArgumentException(variable + " is not a URI: '" + value + "'", e);
            }
            break;
          }
        }
      }
      String region = b.region;
      if (region == null) {
        try {
          var chain = DefaultAwsRegionProviderChain.builder();
          if (b.profile != null) {
            chain.profileName(b.profile);
          }
          region = chain.build().getRegion().id();
        } catch (SdkException none) {
          // The SDK reads AWS_REGION only; the AWS CLI's AWS_DEFAULT_REGION is honoured too.
          String cliRegion = environment.get("AWS_DEFAULT_REGION");
          region = cliRegion != null && !cliRegion.isBlank()
              ? cliRegion.strip()
              : S3StorageBackend.FALLBACK_REGION;
        }
      }
      boolean pathStyle = b.pathStyle != null ? b.pathStyle : endpoint != null;
      return new ResolvedSettings(endpoint, region, pathStyle);
    }
  }
}
