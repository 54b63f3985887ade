package dev.modelcache.core.probe;

import dev.modelcache.core.CacheEntry;
import dev.modelcache.core.DownloadListener;
import dev.modelcache.core.ModelCache;
import dev.modelcache.core.ModelSource;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.Locale;
import java.util.Random;

/**
 * Compares ensure() of a file: source (downloaded, CRC32C per block, read back and verified,
 * fsynced, committed) with its peer {@code cp -r SRC DST && sync} on the same disk, in the same
 * run, alternating. Not a test: run it by hand.
 *
 * <p>Arguments: work directory, number of files, MiB per file, repetitions.
 */
public final class DownloadProbe {

  private DownloadProbe() {}

  public static void main(String[] args) throws Exception {
    Path work = Path.of(args[0]);
    int files = Integer.parseInt(args[1]);
    int mib = Integer.parseInt(args[2]);
    int reps = Integer.parseInt(args[3]);
    Path src = work.resolve("source");
    if (!Files.isDirectory(src)) {
      Files.createDirectories(src);
      Random random = new Random(7);
      byte[] chunk = new byte[1 << 20];
      for (int f = 0; f < files; f++) {
        try (FileChannel ch = FileChannel.open(
            src.resolve(String.format(Locale.ROOT, "shard-%05d.safetensors", f)),
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE)) {
          for (int m = 0; m < mib; m++) {
            random.nextBytes(chunk);
            ch.write(ByteBuffer.wrap(chunk));
          }
        }
      }
    }
    long bytes = (long) files * mib << 20;
    run("sync");
    for (int r = 0; r < reps; r++) {
      Path root = work.resolve("cache-" + r);
      Files.createDirectories(root);
      long t0 = System.nanoTime();
      try (ModelCache cache = ModelCache.builder().root(root).build()) {
        CacheEntry e = cache.ensure(ModelSource.of(src.toUri()), DownloadListener.NONE);
        if (e.sizeBytes() != bytes) {
          throw new AssertionError("size " + e.sizeBytes());
        }
      }
      double engine = (System.nanoTime() - t0) / 1e9;
      Path dst = work.resolve("cp-" + r);
      long t1 = System.nanoTime();
      run("cp", "-r", src.toString(), dst.toString());
      run("sync");
      double cp = (System.nanoTime() - t1) / 1e9;
      System.out.printf(
          Locale.ROOT,
          "rep %d: ensure %.2f s (%.0f MB/s), cp -r + sync %.2f s (%.0f MB/s), ratio ensure/cp %.2f%n",
          r,
          engine,
          bytes / engine / 1e6,
          cp,
          bytes / cp / 1e6,
          cp / engine);
      delete(root);
      delete(dst);
    }
  }

  private static void run(String... cmd) throws Exception {
    int rc = new ProcessBuilder(cmd).inheritIO().start().waitFor();
    if (rc != 0) {
      throw new AssertionError(String.join(" ", cmd) + " exited " + rc);
    }
  }

  private static void delete(Path p) throws Exception {
    run("chmod", "-R", "u+w", p.toString());
    try (var walk = Files.walk(p)) {
      walk.sorted(Comparator.reverseOrder()).forEach(x -> x.toFile().delete());
    }
  }
}
