package dev.modelcache.core;

import dev.modelcache.common.json.JsonException;
import dev.modelcache.common.json.JsonObject;
import dev.modelcache.common.json.JsonReader;
import dev.modelcache.common.json.JsonReader.JsonNumber;
import dev.modelcache.common.json.JsonWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The limits stored with a cache root ({@code ROOT/settings.json}), which every process that opens
 * the root applies unless its own builder overrides them: the node's cache has one size cap and one
 * free-space floor, whichever pod asks. Immutable.
 *
 * <pre>{@code
 * CacheSettings.read(root).withMaxBytes(1_500L << 30).withMinFree(FreeSpace.ofPercent(5)).write(root);
 * }</pre>
 *
 * @param maxBytes the most bytes committed entries (and live downloads) may take; empty for none
 * @param minFree the free space always left on the disk; empty for the default (5% of the disk, at
 *     most 1 GiB)
 */
public record CacheSettings(OptionalLong maxBytes, Optional<FreeSpace> minFree) {

  /** The settings file's format version; a later version is refused, not half-read. */
  public static final int VERSION = 1;

  /** No setting: every limit takes its default. */
  public static final CacheSettings NONE =
      new CacheSettings(OptionalLong.empty(), Optional.empty());

  static final String FILE = "settings.json";

  public CacheSettings {
    Objects.requireNonNull(maxBytes, "maxBytes");
    Objects.requireNonNull(minFree, "minFree");
    if (maxBytes.isPresent() && maxBytes.getAsLong() <= 0) {
      throw new IllegalArgumentException(
          "maxBytes must be > 0 (or unset for no limit), was " + maxBytes.getAsLong());
    }
  }

  /** With a size cap of {@code maxBytes} ({@code > 0}). */
  public CacheSettings withMaxBytes(long maxBytes) {
    return new CacheSettings(OptionalLong.of(maxBytes), minFree);
  }

  /** Without a size cap. */
  public CacheSettings withoutMaxBytes() {
    return new CacheSettings(OptionalLong.empty(), minFree);
  }

  /** With a free-space floor. */
  public CacheSettings withMinFree(FreeSpace minFree) {
    return new CacheSettings(maxBytes, Optional.of(minFree));
  }

  /** With the default free-space floor. */
  public CacheSettings withoutMinFree() {
    return new CacheSettings(maxBytes, Optional.empty());
  }

  /** The settings file of {@code root}. */
  public static Path file(Path root) {
    return root.resolve(FILE);
  }

  /**
   * Reads the settings of the cache at {@code root}; {@link #NONE} if it has none.
   *
   * @throws CacheRootException if the file does not parse, names an unknown setting or version,
   *     or holds a value out of range: it is reported, never ignored
   */
  public static CacheSettings read(Path root) throws IOException {
    Path file = file(root);
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      return NONE;
    }
    return parse(file, text);
  }

  static CacheSettings parse(Path file, String text) throws CacheRootException {
    Object parsed;
    try {
      parsed = JsonReader.parse(text, 8);
    } catch (JsonException e) {
      throw invalid(file, "it is not JSON: " + e.getMessage());
    }
    if (!(parsed instanceof Map<?, ?> map)) {
      throw invalid(file, "it is not a JSON object");
    }
    if (!(map.get("version") instanceof JsonNumber version)
        || version.asNonNegativeLong() != VERSION) {
      throw invalid(
          file,
          "its \"version\" is " + map.get("version") + ", and this version of modelcache reads "
              + VERSION);
    }
    CacheSettings settings = NONE;
    for (Map.Entry<?, ?> e : map.entrySet()) {
      Object value = e.getValue();
      try {
        switch ((String) e.getKey()) {
          case "version" -> {}
          case "maxBytes" -> {
            if (!(value instanceof JsonNumber bytes) || bytes.asNonNegativeLong() < 0) {
              throw invalid(file, "\"maxBytes\" must be a number of bytes, was " + value);
            }
            settings = settings.withMaxBytes(bytes.asNonNegativeLong());
          }
          case "minFree" -> {
            if (!(value instanceof String s)) {
              throw invalid(
                  file,
                  "\"minFree\" must be a string such as \"5%\" or \"53687091200\", was " + value);
            }
            settings = settings.withMinFree(FreeSpace.parse(s));
          }
          default ->
            throw invalid(
                file,
                "it has the unknown setting \"" + e.getKey() + "\" (known: maxBytes, minFree)");
        }
      } catch (IllegalArgumentException ex) {
        throw invalid(file, "\"" + e.getKey() + "\": " + ex.getMessage());
      }
    }
    return settings;
  }

  /** Writes these settings as the settings of the cache at {@code root}, atomically and durably. */
  public void write(Path root) throws IOException {
    DurableFiles.writeAtomically(file(root), toJson());
    SharedAccess.readableByAll(file(root));
  }

  String toJson() {
    JsonObject doc = JsonObject.create().put("version", VERSION);
    maxBytes.ifPresent(b -> doc.put("maxBytes", b));
    minFree.ifPresent(f -> doc.put("minFree", f.toString()));
    return JsonWriter.pretty(doc);
  }

  private static CacheRootException invalid(Path file, String why) {
    return new CacheRootException(
        file.getParent(),
        "its settings file " + file + " is not valid: " + why
            + " (fix it, or rewrite it with 'modelcache config set')",
        null);
  }
}
