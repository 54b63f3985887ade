package dev.modelcache.s3;

import dev.modelcache.core.spi.BackendOptions;
import dev.modelcache.core.spi.StorageBackend;
import dev.modelcache.core.spi.StorageBackendProvider;
import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;

/**
 * Serves the {@code s3} scheme through {@link java.util.ServiceLoader}.
 *
 * <p>Options (all optional; unknown keys are rejected):
 * <ul>
 *   <li>{@code endpoint}: URL of an S3-compatible store, see {@link S3StorageBackend.Builder#endpoint}
 *   <li>{@code region}: such as {@code eu-west-1}
 *   <li>{@code pathStyle}: {@code true} or {@code false}
 *   <li>{@code profile}: an AWS profile name
 *   <li>{@code anonymous}: {@code true} for unsigned requests to public buckets
 *   <li>{@code maxConnections}: connection pool size
 *   <li>{@code connectTimeoutMillis}, {@code readTimeoutMillis}: timeouts in milliseconds
 *   <li>{@code listPageSize}: keys per listing page, 1 to 1000
 * </ul>
 * Secrets are deliberately not options: they would end up in command lines and files. Use the
 * credential chain (environment, profiles, web identity, instance metadata).
 */
public final class S3BackendProvider implements StorageBackendProvider {

  /** The option keys this provider understands. */
  public static final Set<String> OPTIONS = Set.of(
      "endpoint",
      "region",
      "pathStyle",
      "profile",
      "anonymous",
      "maxConnections",
      "connectTimeoutMillis",
      "readTimeoutMillis",
      "listPageSize");

  /** For {@link java.util.ServiceLoader}. */
  public S3BackendProvider() {}

  @Override
  public String scheme() {
    return "s3";
  }

  /**
   * @throws IllegalArgumentException naming the key and value of an unknown or malformed option
   */
  @Override
  public StorageBackend create(BackendOptions options) {
    options.requireOnly(scheme(), OPTIONS);
    var builder = S3StorageBackend.builder();
    options.get("endpoint").ifPresent(v -> builder.endpoint(uri("endpoint", v)));
    options.get("region").ifPresent(builder::region);
    options.get("pathStyle").ifPresent(v -> builder.pathStyle(bool("pathStyle", v)));
    options.get("profile").ifPresent(builder::profile);
    options.get("anonymous").ifPresent(v -> builder.anonymous(bool("anonymous", v)));
    options
        .get("maxConnections")
        .ifPresent(v -> builder.maxConnections(integer("maxConnections", v)));
    options
        .get("connectTimeoutMillis")
        .ifPresent(
            v -> builder.connectTimeout(Duration.ofMillis(integer("connectTimeoutMillis", v))));
    options
        .get("readTimeoutMillis")
        .ifPresent(v -> builder.readTimeout(Duration.ofMillis(integer("readTimeoutMillis", v))));
    options.get("listPageSize").ifPresent(v -> builder.listPageSize(integer("listPageSize", v)));
    try {
      return builder.build();
    } catch (IllegalStateException e) {
      throw new IllegalArgumentException(
          "s3: backend options " + options.values().keySet() + ": " + e.getMessage(), e);
    }
  }

  private static URI uri(String key, String value) {
    try {
      return URI.create(value.strip());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("option " + key + " is not a URI: '" + value + "'", e);
    }
  }

  private static boolean bool(String key, String value) {
    return switch (value.strip().toLowerCase(Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default ->
        throw new IllegalArgumentException(
            "option " + key + " must be true or false: '" + value + "'");
    };
  }

  private static int integer(String key, String value) {
    try {
      return Integer.parseInt(value.strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "option " + key + " must be an integer: '" + value + "'", e);
    }
  }
}
