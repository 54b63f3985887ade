package dev.modelcache.core;

import dev.modelcache.common.json.JsonException;
import dev.modelcache.common.json.JsonObject;
import dev.modelcache.common.json.JsonReader;
import dev.modelcache.common.json.JsonReader.JsonNumber;
import dev.modelcache.common.json.JsonWriter;
import dev.modelcache.core.spi.SourceChecksum;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What a cache entry holds: every file with its size and the strongest integrity the source
 * offered (checksum, ETag, version id), plus the CRC32C of each block that the cache computed
 * while writing. It is stored as {@code manifest.json} inside the entry and written last, just
 * before the entry is committed; reading and writing that file is the cache's own business.
 * Immutable.
 *
 * @param source the model
 * @param blockSizeBytes the size of the blocks whose CRC32C is recorded
 * @param createdAt when the entry was committed
 * @param files the files, sorted by path
 */
public record Manifest(
    ModelSource source, long blockSizeBytes, Instant createdAt, List<ManifestFile> files) {

  /** The format written by this version. */
  static final int FORMAT = 1;

  /** Manifests nest three levels deep; this leaves room and still bounds a hostile file. */
  private static final int MAX_DEPTH = 32;

  public Manifest {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(createdAt, "createdAt");
    if (blockSizeBytes <= 0) {
      throw new IllegalArgumentException("blockSizeBytes must be positive: " + blockSizeBytes);
    }
    files = List.copyOf(files);
  }

  /** The sum of the files' sizes. */
  public long sizeBytes() {
    long total = 0;
    for (ManifestFile f : files) {
      total += f.sizeBytes();
    }
    return total;
  }

  /** The file at {@code path}, if listed. */
  public Optional<ManifestFile> file(String path) {
    return files.stream().filter(f -> f.path().equals(path)).findFirst();
  }

  /** This manifest as JSON text, in {@link JsonWriter#pretty}'s layout: one line per file. */
  String toJson() {
    List<JsonObject> fileObjects = new ArrayList<>(files.size());
    HexFormat hex = HexFormat.of();
    for (ManifestFile f : files) {
      JsonObject checksum = null;
      if (f.checksum() != null) {
        checksum = JsonObject.create()
            .put("algorithm", f.checksum().algorithm())
            .put("hex", f.checksum().hex());
        if (f.checksum().isMultipart()) {
          checksum
              .put("parts", f.checksum().parts())
              .put("partSizeBytes", f.checksum().partSizeBytes());
        }
      }
      StringBuilder crcs = new StringBuilder(8 * f.blockCount());
      for (int b = 0; b < f.blockCount(); b++) {
        crcs.append(hex.toHexDigits(f.blockCrc32c(b)));
      }
      fileObjects.add(JsonObject.create()
          .put("path", f.path())
          .put("key", f.key())
          .put("sizeBytes", f.sizeBytes())
          .put("etag", f.etag())
          .put("versionId", f.versionId())
          .put("checksum", checksum)
          .put("integrity", f.integrity().label())
          .put("blockCrc32c", crcs.toString()));
    }
    return JsonWriter.pretty(JsonObject.create()
        .put("format", FORMAT)
        .put("source", source.uri().toString())
        .put("revision", source.revision())
        .put("blockSizeBytes", blockSizeBytes)
        .put("createdAt", createdAt.toString())
        .put("files", fileObjects));
  }

  /**
   * Reads a manifest file.
   *
   * @throws ManifestCorruptException if it does not parse or breaks a rule, naming the file
   * @throws IOException if it cannot be read
   */
  static Manifest read(Path file) throws IOException {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (java.nio.charset.MalformedInputException e) {
      throw new ManifestCorruptException(file, "not UTF-8 text");
    }
    return parse(file, text);
  }

  /**
   * Parses manifest JSON; {@code file} is named in errors.
   *
   * @throws ManifestCorruptException if it does not parse or breaks a rule
   */
  static Manifest parse(Path file, String text) throws ManifestCorruptException {
    Object root;
    try {
      root = JsonReader.parse(text, MAX_DEPTH);
    } catch (JsonException e) {
      throw new ManifestCorruptException(file, "invalid JSON: " + e.getMessage());
    }
    try {
      Map<?, ?> m = object(root, "the document");
      long format = number(m, "format");
      if (format != FORMAT) {
        throw new ManifestCorruptException(
            file, "unsupported format " + format + " (expected " + FORMAT + ")");
      }
      ModelSource source =
          new ModelSource(URI.create(string(m, "source", false)), string(m, "revision", true));
      long blockSize = number(m, "blockSizeBytes");
      Instant createdAt = Instant.parse(string(m, "createdAt", false));
      if (!(m.get("files") instanceof List<?> list)) {
        throw new IllegalArgumentException("field 'files' is not an array");
      }
      ArrayList<ManifestFile> files = new ArrayList<>(list.size());
      for (Object o : list) {
        Map<?, ?> f = object(o, "a file");
        String path = string(f, "path", false);
        dev.modelcache.core.spi.ObjectKeys.validate(path, path);
        long size = number(f, "sizeBytes");
        SourceChecksum checksum = null;
        if (f.get("checksum") != null) {
          Map<?, ?> c = object(f.get("checksum"), "a checksum");
          String algorithm = string(c, "algorithm", false);
          checksum = algorithm.endsWith("-PARTS")
              ? new SourceChecksum(
                  algorithm, string(c, "hex", false), partCount(c), number(c, "partSizeBytes"))
              : new SourceChecksum(algorithm, string(c, "hex", false));
        }
        String crcHex = string(f, "blockCrc32c", false);
        if (crcHex.length() % 8 != 0) {
          throw new IllegalArgumentException(
              "blockCrc32c of " + path + " is not a multiple of 8 hex digits");
        }
        int[] crcs = new int[crcHex.length() / 8];
        for (int b = 0; b < crcs.length; b++) {
          crcs[b] = HexFormat.fromHexDigits(crcHex, b * 8, b * 8 + 8);
        }
        long expectedBlocks = size == 0 ? 0 : (size + blockSize - 1) / blockSize;
        if (crcs.length != 0 && crcs.length != expectedBlocks) {
          throw new IllegalArgumentException("file " + path + " has " + crcs.length
              + " block checksums, expected " + expectedBlocks);
        }
        files.add(new ManifestFile(
            path,
            string(f, "key", false),
            size,
            string(f, "etag", true),
            string(f, "versionId", true),
            checksum,
            crcs));
      }
      return new Manifest(source, blockSize, createdAt, files);
    } catch (ManifestCorruptException e) {
      throw e;
    } catch (IllegalArgumentException | java.time.DateTimeException | InvalidObjectKeyException e) {
      throw new ManifestCorruptException(file, e.getMessage());
    }
  }

  private static Map<?, ?> object(Object o, String what) {
    if (o instanceof Map<?, ?> map) {
      return map;
    }
    throw new IllegalArgumentException(what + " is not a JSON object");
  }

  private static int partCount(Map<?, ?> checksum) {
    long parts = number(checksum, "parts");
    if (parts > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "field 'parts' is larger than " + Integer.MAX_VALUE + ": " + parts);
    }
    return (int) parts;
  }

  private static String string(Map<?, ?> m, String field, boolean nullable) {
    Object v = m.get(field);
    if (v == null && nullable && m.containsKey(field)) {
      return null;
    }
    if (v instanceof String s) {
      return s;
    }
    throw new IllegalArgumentException("field '" + field + "' is missing or not a string");
  }

  private static long number(Map<?, ?> m, String field) {
    if (m.get(field) instanceof JsonNumber n && n.asNonNegativeLong() >= 0) {
      return n.asNonNegativeLong();
    }
    throw new IllegalArgumentException(
        "field '" + field + "' is missing or not a non-negative integer");
  }
}
