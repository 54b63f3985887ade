package dev.modelcache.benchmarks.loader;

import dev.modelcache.benchmarks.Measurements;
import dev.modelcache.loader.PageCache;
import dev.modelcache.loader.SafetensorsFile;
import dev.modelcache.loader.SafetensorsModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Locale;

/**
 * Puts the model's files into a cold or warm page-cache state before an iteration and checks
 * that they really are in it (mincore), then records side figures (RSS) the JMH report lacks.
 */
final class CacheState {
  private CacheState() {}

  static void prepare(SafetensorsModel model, String cache) {
    try {
      long total = 0;
      long resident = 0;
      for (SafetensorsFile f : model.files()) {
        if (cache.equals("cold")) {
          if (!PageCache.drop(f.path())) {
            throw new IllegalStateException("cold runs need --enable-native-access=ALL-UNNAMED");
          }
        } else {
          PageCache.warm(f.path());
        }
        total += f.sizeBytes();
        resident += PageCache.residentBytes(f.path()).orElseThrow();
      }
      double fraction = resident / (double) total;
      if (cache.equals("cold") && fraction > 0.01) {
        throw new IllegalStateException(
            String.format(Locale.ROOT, "not cold: %.1f%% resident", 100 * fraction));
      }
      if (cache.equals("warm") && fraction < 0.99) {
        throw new IllegalStateException(
            String.format(Locale.ROOT, "not warm: %.1f%% resident", 100 * fraction));
      }
      record("residency", cache, String.format(Locale.ROOT, "%.4f", fraction));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Appends {@code key,context,value} to the side file named by -Dloader.bench.side, if set. */
  static void record(String key, String context, String value) {
    Measurements.record("loader.bench.side", key, context, value);
  }
}
