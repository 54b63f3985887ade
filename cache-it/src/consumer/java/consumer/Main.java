package consumer;

import dev.modelcache.core.CacheEntry;
import dev.modelcache.core.DownloadListener;
import dev.modelcache.core.Lease;
import dev.modelcache.core.ModelCache;
import dev.modelcache.core.ModelSource;
import dev.modelcache.core.spi.BackendOptions;
import dev.modelcache.loader.DigestTensorSink;
import dev.modelcache.loader.LoadResult;
import dev.modelcache.loader.Loader;
import dev.modelcache.loader.ReadStrategy;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * Ensures a model from an S3-compatible store into a cache root, leases it, loads every tensor
 * into a digesting sink and prints one line per tensor, {@code tensor NAME SHA256}, then
 * {@code loaded TENSORS tensors BYTES bytes from MODULE}.
 *
 * <p>Usage: {@code java --module-path MODULES -m consumer/consumer.Main ENDPOINT SOURCE ROOT}.
 * Credentials come from the AWS SDK's default chain (for example {@code AWS_ACCESS_KEY_ID} and
 * {@code AWS_SECRET_ACCESS_KEY}); the {@code s3:} backend is found through the service loader.
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 3) {
      System.err.println("usage: consumer.Main ENDPOINT SOURCE ROOT");
      System.exit(2);
    }
    BackendOptions s3 = BackendOptions.NONE.with("endpoint", args[0]).with("region", "us-east-1");
    try (ModelCache cache =
        ModelCache.builder()
            .root(Path.of(args[2]))
            .createRootIfMissing()
            .backendOptions("s3", s3)
            .build()) {
      CacheEntry entry = cache.ensure(ModelSource.parse(args[1]), DownloadListener.NONE);
      try (Lease lease = cache.lease(entry)) {
        DigestTensorSink sink = DigestTensorSink.of(DigestTensorSink.Algorithm.SHA_256);
        LoadResult result =
            Loader.builder().strategy(ReadStrategy.DIRECT).build().load(lease.directory(), sink);
        for (Map.Entry<String, String> tensor : sink.digests().entrySet()) {
          System.out.println("tensor " + tensor.getKey() + " " + tensor.getValue());
        }
        System.out.println(
            String.format(
                Locale.ROOT,
                "loaded %d tensors %d bytes from %s",
                result.tensorCount(),
                result.bytesLoaded(),
                ModelCache.class.getModule().getName()));
      }
    }
  }
}
