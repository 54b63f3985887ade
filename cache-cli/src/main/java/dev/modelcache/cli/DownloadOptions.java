package dev.modelcache.cli;

import dev.modelcache.core.CacheSettings;
import dev.modelcache.core.FreeSpace;
import dev.modelcache.core.ModelCache;
import dev.modelcache.core.ModelSource;
import java.io.IOException;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** How {@code prefetch}, {@code await}, {@code exec} and {@code load --fetch} download: the transfer, how blocks are written and verified, and this process's limits. */
final class DownloadOptions {

  @Mixin
  TransferOptions transfer = new TransferOptions();

  @Option(
      names = "--buffered-writes",
      description =
          "Write through the page cache instead of with O_DIRECT (the default where the file system allows it), "
              + "e.g. on a network file system where O_DIRECT is slow.")
  boolean bufferedWrites;

  @Option(
      names = "--no-read-back",
      description =
          "Do not read each block back from the disk after writing it: check it as received (its CRC32C is kept for "
              + "'modelcache verify', and a multipart ETag of 8 MiB parts is checked from the bytes received). Halves "
              + "the disk traffic, for a store faster than the disk; files checked against another source checksum "
              + "are still read back.")
  boolean noReadBack;

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
    String given = transfer.firstGiven();
    if (given != null) {
      return given;
    }
    if (bufferedWrites) {
      return "--buffered-writes";
    }
    if (noReadBack) {
      return "--no-read-back";
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
    transfer.applyTo(builder);
    if (bufferedWrites) {
      builder.directWrites(false);
    }
    if (noReadBack) {
      builder.readBack(false);
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
    if (!transfer.namesStore()) {
      return;
    }
    if (!"s3".equals(source.scheme())) {
      throw new UsageException((transfer.endpoint != null ? "--endpoint" : "--region")
          + " applies to s3:// sources, not " + source.scheme() + ":");
    }
    builder.backendOptions("s3", transfer.s3Options());
  }
}
