package dev.modelcache.cli;

import dev.modelcache.core.ModelCache;
import dev.modelcache.core.spi.BackendOptions;
import java.net.URI;
import java.util.Locale;
import picocli.CommandLine.Option;

/**
 * How a command that downloads transfers: requests in flight, their size and the buffers', and
 * the S3 endpoint and region. Shared by {@link DownloadOptions} (prefetch, await, exec, load --fetch) and the agent.
 */
final class TransferOptions {

  @Option(
      names = "--concurrency",
      paramLabel = "N",
      description = "Range requests in flight at once, across all files (default: "
          + ModelCache.DEFAULT_CONCURRENCY + ").")
  Integer concurrency;

  @Option(
      names = "--part-size",
      paramLabel = "SIZE",
      description =
          "Bytes per transfer buffer and per checksummed block, e.g. 8MiB (default: 8MiB). Memory used is concurrency x part size.")
  ByteSize partSize;

  @Option(
      names = "--request-size",
      paramLabel = "SIZE",
      description =
          "Bytes asked for in one ranged request, in whole parts, e.g. 32MiB (default: 32MiB): consecutive blocks of one file, taken one part at a time. Larger requests cost less CPU.")
  ByteSize requestSize;

  @Option(
      names = "--endpoint",
      paramLabel = "URL",
      description =
          "S3-compatible endpoint for s3:// sources (MinIO, Ceph, S3Proxy), addressed path-style; default: AWS, or $AWS_ENDPOINT_URL.")
  String endpoint;

  @Option(
      names = "--region",
      paramLabel = "REGION",
      description =
          "S3 region (default: the SDK's usual lookup: $AWS_REGION, profile, instance metadata).")
  String region;

  /** The first of these options the command line gave, as written there; null if none. */
  String firstGiven() {
    if (concurrency != null) {
      return "--concurrency";
    }
    if (partSize != null) {
      return "--part-size";
    }
    if (requestSize != null) {
      return "--request-size";
    }
    if (endpoint != null) {
      return "--endpoint";
    }
    return region != null ? "--region" : null;
  }

  /** Whether {@code --endpoint} or {@code --region} was given. */
  boolean namesStore() {
    return endpoint != null || region != null;
  }

  /**
   * Applies the concurrency, part size and request size to a cache builder.
   *
   * @throws UsageException if one is out of range
   */
  void applyTo(ModelCache.Builder builder) throws UsageException {
    // The cache's builder knows the valid ranges; its message says which, the prefix says which
    // option.
    if (concurrency != null) {
      try {
        builder.concurrency(concurrency);
      } catch (IllegalArgumentException e) {
        throw new UsageException("--concurrency " + concurrency + ": " + e.getMessage());
      }
    }
    if (partSize != null) {
      try {
        builder.partSizeBytes((int) Math.min(Integer.MAX_VALUE, partSize.bytes()));
      } catch (IllegalArgumentException e) {
        throw new UsageException("--part-size " + partSize + ": " + e.getMessage());
      }
    }
    if (requestSize != null) {
      try {
        builder.requestSizeBytes(requestSize.bytes());
      } catch (IllegalArgumentException e) {
        throw new UsageException("--request-size " + requestSize + ": " + e.getMessage());
      }
    }
  }

  /**
   * The {@code s3:} backend's options for {@code --endpoint} and {@code --region}; empty when
   * neither was given.
   *
   * @throws UsageException if the endpoint is not an http:// or https:// URL
   */
  BackendOptions s3Options() throws UsageException {
    BackendOptions options = BackendOptions.NONE;
    if (endpoint != null) {
      URI uri;
      try {
        uri = URI.create(endpoint);
      } catch (IllegalArgumentException e) {
        throw new UsageException("--endpoint '" + endpoint + "' is not a URL");
      }
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
      if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null) {
        throw new UsageException("--endpoint '" + endpoint + "' is not an http:// or https:// URL");
      }
      // S3-compatible stores rarely have per-bucket DNS names: address them by path.
      options = options.with("endpoint", endpoint).with("pathStyle", "true");
    }
    if (region != null) {
      options = options.with("region", region);
    }
    return options;
  }
}
