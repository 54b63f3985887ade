package dev.modelcache.benchmarks.coldstart;

import dev.modelcache.benchmarks.Measurements;
import dev.modelcache.loader.PageCache;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Puts files into a cold or warm page-cache state and proves it with {@code mincore}, reads
 * peak memory from {@code /proc/self/status}, and appends side figures (those JMH does not
 * report) to a CSV file.
 *
 * <p>As a program: {@code Residency drop|warm|prefetch|resident PATH...} (directories are walked),
 * prints {@code RESIDENT fraction bytes} of all the regular files named, after the action.
 * {@code drop} and {@code warm} fail if the files did not reach the state; {@code prefetch} reads
 * the files like {@code warm} and only reports.
 */
public final class Residency {
  /** Above this resident fraction a "cold" file is not cold. */
  static final double COLD_MAX = 0.01;
  /** Below this resident fraction a "warm" file is not warm. */
  static final double WARM_MIN = 0.99;

  private Residency() {}

  public static void main(String[] args) throws IOException {
    if (args.length < 2) {
      System.err.println("usage: Residency drop|warm|prefetch|resident PATH...");
      System.exit(2);
    }
    List<Path> files = new ArrayList<>();
    for (int i = 1; i < args.length; i++) {
      files.addAll(regularFiles(Path.of(args[i])));
    }
    switch (args[0]) {
      case "drop" -> drop(files);
      case "warm" -> warm(files);
      case "prefetch" -> {
        for (Path f : files) {
          PageCache.warm(f);
        }
      }
      case "resident" -> {}
      default -> throw new IllegalArgumentException("unknown action " + args[0]);
    }
    long total = 0;
    for (Path f : files) {
      total += Files.size(f);
    }
    System.out.printf(Locale.ROOT, "RESIDENT %.4f %d%n", fraction(files), total);
  }

  /** Every regular file under {@code path} (or {@code path} itself), sorted. */
  static List<Path> regularFiles(Path path) throws IOException {
    if (Files.isRegularFile(path)) {
      return List.of(path);
    }
    try (Stream<Path> s = Files.walk(path)) {
      return s.filter(Files::isRegularFile).sorted().toList();
    }
  }

  /** Drops the files' pages and checks that at most 1% stays resident. */
  static void drop(List<Path> files) throws IOException {
    for (Path f : files) {
      if (!PageCache.drop(f)) {
        throw new IllegalStateException(
            "cannot drop pages: run with --enable-native-access=ALL-UNNAMED");
      }
    }
    double fraction = fraction(files);
    if (fraction > COLD_MAX) {
      throw new IllegalStateException(String.format(
          Locale.ROOT,
          "not cold after posix_fadvise(DONTNEED): %.1f%% of %s resident",
          100 * fraction,
          files));
    }
  }

  /** Reads the files into the page cache and checks that at least 99% is resident. */
  static void warm(List<Path> files) throws IOException {
    for (Path f : files) {
      PageCache.warm(f);
    }
    double fraction = fraction(files);
    if (fraction < WARM_MIN) {
      throw new IllegalStateException(String.format(
          Locale.ROOT,
          "not warm after reading: %.1f%% resident (too little free memory?)",
          100 * fraction));
    }
  }

  /** The resident fraction of the files' bytes. */
  static double fraction(List<Path> files) throws IOException {
    long total = 0;
    long resident = 0;
    for (Path f : files) {
      total += Files.size(f);
      resident += PageCache.residentBytes(f)
          .orElseThrow(() -> new IllegalStateException(
              "mincore unavailable: run with --enable-native-access=ALL-UNNAMED"));
    }
    return total == 0 ? 0 : resident / (double) total;
  }

  /** Appends {@code key,context,value} to the file named by {@code -Dsuite.side}, if set. */
  static void record(String key, String context, String value) {
    Measurements.record("suite.side", key, context, value);
  }
}
