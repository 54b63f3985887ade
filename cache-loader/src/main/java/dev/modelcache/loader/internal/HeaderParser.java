package dev.modelcache.loader.internal;

import dev.modelcache.common.json.JsonException;
import dev.modelcache.common.json.JsonReader;
import dev.modelcache.loader.Dtype;
import dev.modelcache.loader.SafetensorsFormatException;
import dev.modelcache.loader.SafetensorsFormatException.Rule;
import dev.modelcache.loader.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Validates a safetensors header against every rule of the format.
 *
 * <p>The header is read with a pull parser that only accepts the expected structure, so memory
 * stays proportional to the header's length whatever it contains: shapes are capped at
 * {@link #MAX_RANK} dimensions and no generic JSON tree is built.
 */
public final class HeaderParser {
  /** Largest header length the format allows. */
  public static final long MAX_HEADER_BYTES = 100_000_000L;
  /** Most dimensions a shape may have; far above any real model, small enough to bound memory. */
  public static final int MAX_RANK = 1024;

  private static final int MAX_DEPTH = 8;
  private static final String METADATA_KEY = "__metadata__";

  private HeaderParser() {}

  /** The validated content of a header. */
  public record Parsed(List<TensorInfo> tensorsByOffset, Map<String, String> metadata) {}

  /**
   * Checks the 8-byte length prefix against the file size before anything is allocated.
   *
   * @return the header length N
   */
  public static int checkHeaderLength(Path file, long fileSize, long rawLength)
      throws SafetensorsFormatException {
    if (Long.compareUnsigned(rawLength, MAX_HEADER_BYTES) > 0) {
      throw new SafetensorsFormatException(
          file,
          null,
          Rule.HEADER_TOO_LARGE,
          "header length " + Long.toUnsignedString(rawLength) + " exceeds " + MAX_HEADER_BYTES);
    }
    if (8 + rawLength > fileSize) {
      throw new SafetensorsFormatException(
          file,
          null,
          Rule.HEADER_BEYOND_FILE,
          "header of " + rawLength + " bytes needs " + (8 + rawLength) + " bytes but the file has "
              + fileSize);
    }
    return (int) rawLength;
  }

  /**
   * Parses and validates a header.
   *
   * @param file the file, for messages and for the returned tensors
   * @param fileSize size of the whole file
   * @param header the N header bytes
   */
  public static Parsed parse(Path file, long fileSize, byte[] header)
      throws SafetensorsFormatException {
    String text;
    try {
      text = StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(header))
          .toString();
    } catch (CharacterCodingException e) {
      throw new SafetensorsFormatException(file, null, Rule.HEADER_NOT_UTF8, e.toString());
    }
    if (text.isEmpty() || text.charAt(0) != '{') {
      throw new SafetensorsFormatException(
          file,
          null,
          Rule.HEADER_NOT_OBJECT,
          text.isEmpty() ? "the header is empty" : "the header starts with another character");
    }
    long dataStart = 8L + header.length;
    long dataLength = fileSize - dataStart;
    JsonReader json = new JsonReader(text, MAX_DEPTH);
    List<TensorInfo> tensors = new ArrayList<>();
    Map<String, String> metadata = Map.of();
    String current = null;
    try {
      json.beginObject();
      for (String key = json.nextKey(); key != null; key = json.nextKey()) {
        current = key;
        if (key.equals(METADATA_KEY)) {
          metadata = readMetadata(file, json);
        } else {
          tensors.add(readTensor(file, json, key, dataStart));
        }
        current = null;
      }
      json.endOfText();
    } catch (JsonException e) {
      Rule rule = switch (e.kind()) {
        case DUPLICATE_KEY -> current == null ? Rule.DUPLICATE_TENSOR : Rule.DUPLICATE_KEY;
        default -> Rule.INVALID_JSON;
      };
      String tensor =
          current == null || current.equals(METADATA_KEY) ? null : JsonReader.abbreviate(current);
      if (rule == Rule.DUPLICATE_TENSOR) {
        tensor = e.key() == null ? null : JsonReader.abbreviate(e.key());
        if (METADATA_KEY.equals(tensor)) {
          rule = Rule.DUPLICATE_KEY;
          tensor = null;
        }
      }
      if (current != null
          && current.equals(METADATA_KEY)
          && rule == Rule.INVALID_JSON
          && e.kind() == JsonException.Kind.TYPE) {
        rule = Rule.INVALID_METADATA;
      }
      throw new SafetensorsFormatException(file, tensor, rule, e.getMessage());
    }
    checkTiling(file, tensors, dataLength);
    return new Parsed(Collections.unmodifiableList(tensors), metadata);
  }

  private static Map<String, String> readMetadata(Path file, JsonReader json)
      throws JsonException, SafetensorsFormatException {
    if (json.peek() != JsonReader.ValueKind.OBJECT) {
      throw new SafetensorsFormatException(
          file,
          null,
          Rule.INVALID_METADATA,
          "__metadata__ is a " + json.peek().name().toLowerCase(java.util.Locale.ROOT)
              + ", not an object");
    }
    json.beginObject();
    Map<String, String> map = new LinkedHashMap<>();
    for (String key = json.nextKey(); key != null; key = json.nextKey()) {
      JsonReader.ValueKind kind = json.peek();
      if (kind != JsonReader.ValueKind.STRING) {
        throw new SafetensorsFormatException(
            file,
            null,
            Rule.INVALID_METADATA,
            "value of \"" + JsonReader.abbreviate(key) + "\" is a "
                + kind.name().toLowerCase(java.util.Locale.ROOT) + ", not a string");
      }
      map.put(key, json.readString());
    }
    return Collections.unmodifiableMap(map);
  }

  private static TensorInfo readTensor(Path file, JsonReader json, String name, long dataStart)
      throws JsonException, SafetensorsFormatException {
    if (json.peek() != JsonReader.ValueKind.OBJECT) {
      throw new SafetensorsFormatException(
          file,
          name,
          Rule.INVALID_TENSOR_ENTRY,
          "the entry is a " + json.peek().name().toLowerCase(java.util.Locale.ROOT)
              + ", not an object");
    }
    json.beginObject();
    Dtype dtype = null;
    long[] shape = null;
    long[] offsets = null;
    for (String key = json.nextKey(); key != null; key = json.nextKey()) {
      switch (key) {
        case "dtype" -> {
          if (json.peek() != JsonReader.ValueKind.STRING) {
            throw new SafetensorsFormatException(
                file, name, Rule.UNKNOWN_DTYPE, "dtype is not a string");
          }
          String d = json.readString();
          dtype = Dtype.fromHeaderName(d)
              .orElseThrow(() -> new SafetensorsFormatException(
                  file,
                  name,
                  Rule.UNKNOWN_DTYPE,
                  "unknown dtype \"" + JsonReader.abbreviate(d) + "\""));
        }
        case "shape" -> shape = readLongs(file, json, name, Rule.INVALID_SHAPE, MAX_RANK);
        case "data_offsets" -> offsets = readLongs(file, json, name, Rule.INVALID_DATA_OFFSETS, 2);
        default ->
          throw new SafetensorsFormatException(
              file,
              name,
              Rule.INVALID_TENSOR_ENTRY,
              "unknown field \"" + JsonReader.abbreviate(key) + "\"");
      }
    }
    if (dtype == null || shape == null || offsets == null) {
      String missing = dtype == null ? "dtype" : shape == null ? "shape" : "data_offsets";
      throw new SafetensorsFormatException(
          file, name, Rule.INVALID_TENSOR_ENTRY, "missing field " + missing);
    }
    if (offsets.length != 2) {
      throw new SafetensorsFormatException(
          file, name, Rule.INVALID_DATA_OFFSETS, "found " + offsets.length + " offsets");
    }
    long begin = offsets[0];
    long end = offsets[1];
    if (end < begin) {
      throw new SafetensorsFormatException(
          file, name, Rule.OFFSETS_REVERSED, "end " + end + " is before begin " + begin);
    }
    long elements = 1;
    long bits;
    try {
      for (long dim : shape) {
        elements = Math.multiplyExact(elements, dim);
      }
      bits = Math.multiplyExact(elements, (long) dtype.bits());
    } catch (ArithmeticException overflow) {
      throw new SafetensorsFormatException(
          file,
          name,
          Rule.ELEMENT_COUNT_OVERFLOW,
          "shape " + Arrays.toString(shape) + " of " + dtype + " overflows 64 bits");
    }
    if (bits % 8 != 0) {
      throw new SafetensorsFormatException(
          file,
          name,
          Rule.PARTIAL_BYTES,
          elements + " elements of " + dtype + " are " + bits + " bits, not whole bytes");
    }
    long byteSize = bits / 8;
    if (end - begin != byteSize) {
      throw new SafetensorsFormatException(
          file,
          name,
          Rule.SIZE_MISMATCH,
          "data_offsets [" + begin + ", " + end + ") hold " + (end - begin) + " bytes but " + dtype
              + Arrays.toString(shape) + " needs " + byteSize);
    }
    if (end > Long.MAX_VALUE - dataStart) {
      throw new SafetensorsFormatException(
          file, name, Rule.DATA_TRUNCATED, "end " + end + " lies beyond any file");
    }
    return new TensorInfo(name, dtype, shape, file, begin, end, dataStart + begin);
  }

  private static long[] readLongs(Path file, JsonReader json, String name, Rule rule, int max)
      throws JsonException, SafetensorsFormatException {
    if (json.peek() != JsonReader.ValueKind.ARRAY) {
      throw new SafetensorsFormatException(
          file,
          name,
          rule,
          "found a " + json.peek().name().toLowerCase(java.util.Locale.ROOT) + ", not an array");
    }
    json.beginArray();
    long[] values = new long[Math.min(max, 4)];
    int n = 0;
    while (json.nextElement()) {
      if (n == max) {
        throw new SafetensorsFormatException(file, name, rule, "more than " + max + " values");
      }
      if (json.peek() != JsonReader.ValueKind.NUMBER) {
        throw new SafetensorsFormatException(
            file,
            name,
            rule,
            "element " + n + " is a " + json.peek().name().toLowerCase(java.util.Locale.ROOT));
      }
      long v;
      try {
        v = json.readNonNegativeLong();
      } catch (JsonException e) {
        if (e.kind() == JsonException.Kind.NUMBER) {
          throw new SafetensorsFormatException(
              file, name, rule, "element " + n + ": " + e.getMessage());
        }
        throw e;
      }
      if (n == values.length) {
        values = Arrays.copyOf(values, Math.min(max, values.length * 2));
      }
      values[n++] = v;
    }
    return Arrays.copyOf(values, n);
  }

  private static void checkTiling(Path file, List<TensorInfo> tensors, long dataLength)
      throws SafetensorsFormatException {
    tensors.sort(Comparator.comparingLong(TensorInfo::dataBegin)
        .thenComparingLong(TensorInfo::dataEnd)
        .thenComparing(TensorInfo::name));
    long expected = 0;
    for (TensorInfo t : tensors) {
      if (t.dataBegin() != expected) {
        String what = t.dataBegin() > expected ? "a gap" : "an overlap";
        throw new SafetensorsFormatException(
            file,
            t.name(),
            Rule.DATA_NOT_TILED,
            "starts at " + t.dataBegin() + " but the previous tensor ends at " + expected + " ("
                + what + ")");
      }
      if (t.dataEnd() > dataLength) {
        throw new SafetensorsFormatException(
            file,
            t.name(),
            Rule.DATA_TRUNCATED,
            "ends at " + t.dataEnd() + " but the data section has " + dataLength + " bytes");
      }
      expected = t.dataEnd();
    }
    if (expected != dataLength) {
      throw new SafetensorsFormatException(
          file,
          null,
          Rule.TRAILING_BYTES,
          "tensors end at " + expected + " but the data section has " + dataLength + " bytes");
    }
  }

  /** Tensor names already used, for cross-file duplicate checks. */
  public static void checkUnique(Path file, List<TensorInfo> tensors, Set<String> seen)
      throws SafetensorsFormatException {
    for (TensorInfo t : tensors) {
      if (!seen.add(t.name())) {
        throw new SafetensorsFormatException(
            file, t.name(), Rule.DUPLICATE_TENSOR, "the name is used by another shard too");
      }
    }
  }
}
