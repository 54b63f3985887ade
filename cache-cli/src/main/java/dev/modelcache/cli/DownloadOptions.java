package dev.modelcache.cli;

import dev.modelcache.core.CacheSettings;
import dev.modelcache.core.FreeSpace;
import dev.modelcache.core.ModelCache;
import dev.modelcache.core.ModelSource;
import dev.modelcache.core.spi.BackendOptions;
import java.io.IOException;
import java.net.URI;
import java.util.Locale;
import picocli.CommandLine.Option;

/** How {@code prefetch}, {@code await} and {@code load --fetch} download: transfer settings and the store's endpoint. */
final class DownloadOptions {

  @Option(
      names = "--concurrency",
      paramLabel = "N",
      description = "Byte ranges transferred at once, across all files (default: "
          + ModelCache.DEFAULT_CONCURRENCY + ").")
  Integer concurrency;

  @Option(
      names = "--part-size",
      paramLabel = "SIZE",
      description =
          "Bytes per ranged request and per checksummed block, e.g. 8MiB (default: 8MiB). Memory used is concurrency x part size.")
  ByteSize partSize;

  @Option(
      names = "--buffered-writes",
      description =
          "Write through the page cache instead of with O_DIRECT (the default where the file system allows it), "
              + "e.g. on a network file system where O_DIRECT is slow.")
  boolean bufferedWrites;

  @Option(
      names = "--endpoint",
      paramLabel = "URL",
      description =
          "S3-compatible endpoint (MinIO, Ceph, S3Proxy), addressed path-style; default: AWS, or $AWS_ENDPOINT_URL.")
  String endpoint;

  @Option(
      names = "--region",
      paramLabel = "REGION",
      description =
          "S3 region (default: the SDK's usual lookup: $AWS_REGION, profile, instance metadata).")
  String region;

  @Option(
      names = "--require-verified",
      description =
          "Fail the download if any file cannot be verified against the source (no checksum offered, or a "
              + "multipart ETag no part size tried matches), naming each; by default such a file is committed as unverified.")
  boolean requireVerified;

  @Option(
      names = "--max-size",
      paramLabel = "SIZE",
      description =
          "For this process only: the most the cache may hold, e.g. 1.5TiB (0: no limit), instead of the cache's "
              + "setting ('modelcache config set max-size').")
  ByteSize maxSize;

  @Option(
      names = "--min-free",
      paramLabel = "SIZE|PCT",
      converter = FreeSpaceArgument.Converter.class,
      description =
          "For this process only: free space to leave on the disk, e.g. 50GiB or 5%, instead of the cache's "
              + "setting ('modelcache config set min-free').")
  FreeSpace minFree;

  /** The first of these options the command line gave, as written there; null if none. */
  String firstGiven() {
    if (concurrency != null) {
      return "--concurrency";
    }
    if (partSize != null) {
      return "--part-size";
    }
    if (bufferedWrites) {
      return "--buffered-writes";
    }
    if (endpoint != null) {
      return "--endpoint";
    }
    if (region != null) {
      return "--region";
    }
    if (requireVerified) {
      return "--require-verified";
    }
    if (maxSize != null) {
      return "--max-size";
    }
    return minFree != null ? "--min-free" : null;
  }

  /**
   * Says on stderr which of the cache's settings this process overrides, so that a pod whose flags
   * disagree with the node's settings is not a mystery.
   */
  void noteOverrides(ModelcacheCommand app, ModelCache cache) throws IOException {
    if (maxSize == null && minFree == null) {
      return;
    }
    CacheSettings root = cache.settings();
    if (maxSize != null) {
      app.note(
          "--max-size " + (maxSize.bytes() == 0 ? "0 (no limit)" : ByteSize.format(maxSize.bytes()))
              + " applies to this process only; the cache's setting is "
              + (root.maxBytes().isPresent()
                  ? ByteSize.format(root.maxBytes().getAsLong())
                  : "no limit"));
    }
    if (minFree != null) {
      app.note("--min-free " + FreeSpaceArgument.format(minFree)
          + " applies to this process only; the cache's setting is "
          + root.minFree()
              .map(FreeSpaceArgument::format)
              .orElse("the default (5% of the disk, at most 1 GiB)"));
    }
  }

  /**
   * Applies these options to a cache builder for downloads of {@code source}.
   *
   * @throws UsageException if an option does not fit the source or is out of range
   */
  void applyTo(ModelCache.Builder builder, ModelSource source) throws UsageException {
    // The cache's builder knows the valid ranges; its message says which, the prefix says which
    // option.
    if (concurrency != null) {
      try {
        builder.concurrency(concurrency);
      } catch (IllegalArgumentException e) {
        throw new UsageException("--concurrency " + concurrency + ": " + e.getMessage());
      }
    }
    if (bufferedWrites) {
      builder.directWrites(false);
    }
    if (partSize != null) {
      try {
        builder.partSizeBytes((int) Math.min(Integer.MAX_VALUE, partSize.bytes()));
      } catch (IllegalArgumentException e) {
        throw new UsageException("--part-size " + partSize + ": " + e.getMessage());
      }
    }
    if (maxSize != null) {
      builder.maxBytes(maxSize.bytes());
    }
    if (requireVerified) {
      builder.requireSourceVerification(true);
    }
    if (minFree != null) {
      builder.minFree(minFree);
    }
    if (endpoint == null && region == null) {
      return;
    }
    if (!"s3".equals(source.scheme())) {
      throw new UsageException((endpoint != null ? "--endpoint" : "--region")
          + " applies to s3:// sources, not " + source.scheme() + ":");
    }
    builder.backendOptions("s3", s3Options(endpoint, region));
  }

  /**
   * The {@code s3:} backend's options for {@code --endpoint URL} and {@code --region R} (either may
   * be null).
   *
   * @throws UsageException if the endpoint is not an http:// or https:// URL
   */
  static BackendOptions s3Options(String endpoint, String region) throws UsageException {
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
