package dev.modelcache.loader.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.modelcache.loader.Dtype;
import dev.modelcache.loader.SafetensorsFormatException;
import dev.modelcache.loader.SafetensorsFormatException.Rule;
import dev.modelcache.loader.TensorInfo;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Each rule of {@link HeaderParser}: the rule named, the tensor named, and what the message reports. */
class HeaderParserTest {
  private static final Path FILE = Path.of("model.safetensors");
  private static final String T = "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";

  private static HeaderParser.Parsed parse(String header, long dataBytes)
      throws SafetensorsFormatException {
    byte[] bytes = header.getBytes(StandardCharsets.UTF_8);
    return HeaderParser.parse(FILE, 8L + bytes.length + dataBytes, bytes);
  }

  private static SafetensorsFormatException fails(Executable call) {
    return org.junit.jupiter.api.Assertions.assertThrows(SafetensorsFormatException.class, call);
  }

  private static void assertRule(
      SafetensorsFormatException e, Rule rule, String tensor, String detail) {
    assertThat(e.rule()).isEqualTo(rule);
    assertThat(e.tensor().orElse(null)).isEqualTo(tensor);
    assertThat(e.file()).isEqualTo(FILE);
    assertThat(e.getMessage()).endsWith(" broken: " + detail);
  }

  private static void rejects(
      String header, long dataBytes, Rule rule, String tensor, String detail) {
    assertRule(fails(() -> parse(header, dataBytes)), rule, tensor, detail);
  }

  @Test
  void headerLengthUpToTheLimitIsAccepted() throws SafetensorsFormatException {
    assertThat(HeaderParser.checkHeaderLength(FILE, 8 + 100_000_000L, 100_000_000L))
        .isEqualTo(100_000_000);
    assertThat(HeaderParser.checkHeaderLength(FILE, 18, 10)).isEqualTo(10);
    assertThat(HeaderParser.checkHeaderLength(FILE, 8, 0)).isZero();
  }

  @Test
  void headerLengthOverTheLimitIsTooLarge() {
    assertRule(
        fails(() -> HeaderParser.checkHeaderLength(FILE, Long.MAX_VALUE, 100_000_001L)),
        Rule.HEADER_TOO_LARGE,
        null,
        "header length 100000001 exceeds 100000000");
    assertRule(
        fails(() -> HeaderParser.checkHeaderLength(FILE, Long.MAX_VALUE, -1L)),
        Rule.HEADER_TOO_LARGE,
        null,
        "header length 18446744073709551615 exceeds 100000000");
  }

  @Test
  void headerLengthBeyondTheFile() {
    assertRule(
        fails(() -> HeaderParser.checkHeaderLength(FILE, 17, 10)),
        Rule.HEADER_BEYOND_FILE,
        null,
        "header of 10 bytes needs 18 bytes but the file has 17");
  }

  @Test
  void headerThatIsNotAnObject() {
    rejects("", 0, Rule.HEADER_NOT_OBJECT, null, "the header is empty");
    rejects("[]", 0, Rule.HEADER_NOT_OBJECT, null, "the header starts with another character");
  }

  @Test
  void tensorsComeBackSortedByOffsetWhateverTheHeaderOrder() throws SafetensorsFormatException {
    HeaderParser.Parsed p = parse(
        "{\"b\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[8,11]},"
            + "\"z\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[8,8]},\"a\":" + T + "}",
        11);
    assertThat(p.tensorsByOffset()).extracting(TensorInfo::name).containsExactly("a", "z", "b");
    TensorInfo b = p.tensorsByOffset().get(2);
    long dataStart = 8L + p.tensorsByOffset().get(0).fileOffset() - 8;
    assertThat(b.dtype()).isEqualTo(Dtype.U8);
    assertThat(b.shape()).containsExactly(3L);
    assertThat(b.dataBegin()).isEqualTo(8);
    assertThat(b.dataEnd()).isEqualTo(11);
    assertThat(b.fileOffset()).isEqualTo(dataStart + 8);
    assertThat(p.metadata()).isEmpty();
  }

  @Test
  void metadataIsReadInOrder() throws SafetensorsFormatException {
    HeaderParser.Parsed p =
        parse("{\"__metadata__\":{\"z\":\"1\",\"a\":\"\\u00e9\"},\"a\":" + T + "}", 8);
    assertThat(p.metadata()).containsExactly(Map.entry("z", "1"), Map.entry("a", "\u00e9"));
  }

  @Test
  void metadataThatIsNotAnObjectOfStrings() {
    rejects(
        "{\"__metadata__\":\"x\",\"a\":" + T + "}",
        8,
        Rule.INVALID_METADATA,
        null,
        "__metadata__ is a string, not an object");
    rejects(
        "{\"__metadata__\":{\"k\":\"v\",\"n\":1}}",
        0,
        Rule.INVALID_METADATA,
        null,
        "value of \"n\" is a number, not a string");
    rejects(
        "{\"__metadata__\":{\"k\":null}}",
        0,
        Rule.INVALID_METADATA,
        null,
        "value of \"k\" is a null, not a string");
  }

  @Test
  void syntaxErrorInsideMetadataIsInvalidJsonAboutTheHeader() {
    rejects(
        "{\"__metadata__\":{\"k\":\"v\" \"j\":\"w\"}}",
        0,
        Rule.INVALID_JSON,
        null,
        "expected ',' or '}' at character 25");
  }

  @Test
  void duplicateKeysAndTensors() {
    rejects(
        "{\"a\":" + T + ",\"a\":" + T + "}",
        8,
        Rule.DUPLICATE_TENSOR,
        "a",
        "duplicate key \"a\" at character " + (6 + T.length()));
    rejects(
        "{\"__metadata__\":{},\"__metadata__\":{}}",
        0,
        Rule.DUPLICATE_KEY,
        null,
        "duplicate key \"__metadata__\" at character 19");
    rejects(
        "{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}",
        0,
        Rule.DUPLICATE_KEY,
        null,
        "duplicate key \"k\" at character 25");
    rejects(
        "{\"a\":{\"shape\":[2],\"shape\":[2]}}",
        0,
        Rule.DUPLICATE_KEY,
        "a",
        "duplicate key \"shape\" at character 18");
  }

  @Test
  void longTensorNamesAreAbbreviatedWhenTheyAreNamed() {
    String name = "n".repeat(100);
    String abbreviated = "n".repeat(77) + "...";
    assertRule(
        fails(() -> parse("{\"" + name + "\":{\"dtype\":1}}", 0)),
        Rule.UNKNOWN_DTYPE,
        name,
        "dtype is not a string");
    SafetensorsFormatException syntax =
        fails(() -> parse("{\"" + name + "\":{\"dtype\" \"F32\"}}", 0));
    assertThat(syntax.rule()).isEqualTo(Rule.INVALID_JSON);
    assertThat(syntax.tensor()).contains(abbreviated);
    SafetensorsFormatException duplicate =
        fails(() -> parse("{\"" + name + "\":" + T + ",\"" + name + "\":" + T + "}", 8));
    assertThat(duplicate.rule()).isEqualTo(Rule.DUPLICATE_TENSOR);
    assertThat(duplicate.tensor()).contains(abbreviated);
  }

  @Test
  void entryFields() {
    rejects(
        "{\"a\":[1]}", 0, Rule.INVALID_TENSOR_ENTRY, "a", "the entry is a array, not an object");
    rejects(
        "{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}",
        8,
        Rule.INVALID_TENSOR_ENTRY,
        "a",
        "missing field dtype");
    rejects(
        "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}",
        8,
        Rule.INVALID_TENSOR_ENTRY,
        "a",
        "missing field shape");
    rejects(
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}",
        8,
        Rule.INVALID_TENSOR_ENTRY,
        "a",
        "missing field data_offsets");
    rejects(
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"extra\":1}}",
        8,
        Rule.INVALID_TENSOR_ENTRY,
        "a",
        "unknown field \"extra\"");
    rejects(
        "{\"a\":{\"dtype\":[\"F32\"],\"shape\":[2],\"data_offsets\":[0,8]}}",
        8,
        Rule.UNKNOWN_DTYPE,
        "a",
        "dtype is not a string");
    rejects(
        "{\"a\":{\"dtype\":\"F31\",\"shape\":[2],\"data_offsets\":[0,8]}}",
        8,
        Rule.UNKNOWN_DTYPE,
        "a",
        "unknown dtype \"F31\"");
  }

  @Test
  void shapesAndOffsetsAreArraysOfExactNonNegativeIntegers() {
    rejects(
        "{\"a\":{\"dtype\":\"F32\",\"shape\":\"2\",\"data_offsets\":[0,8]}}",
        8,
        Rule.INVALID_SHAPE,
        "a",
        "found a string, not an array");
    rejects(
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":{}}}",
        8,
        Rule.INVALID_DATA_OFFSETS,
        "a",
        "found a object, not an array");
    rejects(
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1,\"2\"],\"data_offsets\":[0,8]}}",
        8,
        Rule.INVALID_SHAPE,
        "a",
        "element 1 is a string");
    rejects(
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,-8]}}",
        8,
        Rule.INVALID_DATA_OFFSETS,
        "a",
        "element 1: -8 is negative at character 50");
    rejects(
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,8]}}",
        8,
        Rule.INVALID_DATA_OFFSETS,
        "a",
        "more than 2 values");
    rejects(
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8]}}",
        8,
        Rule.INVALID_DATA_OFFSETS,
        "a",
        "found 1 offsets");
    rejects(
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[]}}",
        8,
        Rule.INVALID_DATA_OFFSETS,
        "a",
        "found 0 offsets");
  }

  @Test
  void malformedNumberInAShapeIsInvalidJson() {
    rejects(
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[02],\"data_offsets\":[0,8]}}",
        8,
        Rule.INVALID_JSON,
        "a",
        "malformed number: leading zero at character 30");
  }

  @Test
  void rankUpToTheLimit() throws SafetensorsFormatException {
    String ones = IntStream.range(0, HeaderParser.MAX_RANK)
        .mapToObj(i -> "1")
        .collect(Collectors.joining(","));
    HeaderParser.Parsed p =
        parse("{\"a\":{\"dtype\":\"U8\",\"shape\":[" + ones + "],\"data_offsets\":[0,1]}}", 1);
    assertThat(p.tensorsByOffset().get(0).rank()).isEqualTo(1024);
    rejects(
        "{\"a\":{\"dtype\":\"U8\",\"shape\":[" + ones + ",1],\"data_offsets\":[0,1]}}",
        1,
        Rule.INVALID_SHAPE,
        "a",
        "more than 1024 values");
  }

  @Test
  void shapeValuesAreKeptAcrossGrowth() throws SafetensorsFormatException {
    HeaderParser.Parsed p = parse(
        "{\"a\":{\"dtype\":\"U8\",\"shape\":[1,2,1,3,1,1,2,1,1],\"data_offsets\":[0,12]}}", 12);
    assertThat(p.tensorsByOffset().get(0).shape()).containsExactly(1, 2, 1, 3, 1, 1, 2, 1, 1);
  }

  @Test
  void sizesAndOffsets() {
    rejects(
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}",
        8,
        Rule.OFFSETS_REVERSED,
        "a",
        "end 0 is before begin 8");
    rejects(
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,16]}}",
        16,
        Rule.SIZE_MISMATCH,
        "a",
        "data_offsets [4, 16) hold 12 bytes but F32[2] needs 8");
    rejects(
        "{\"a\":{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,1]}}",
        1,
        Rule.PARTIAL_BYTES,
        "a",
        "3 elements of F4 are 12 bits, not whole bytes");
    rejects(
        "{\"a\":{\"dtype\":\"U8\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}",
        8,
        Rule.ELEMENT_COUNT_OVERFLOW,
        "a",
        "shape [4294967296, 4294967296] of U8 overflows 64 bits");
  }

  @Test
  void endAtTheLastAddressableByteIsNotBeyondAnyFile() {
    String prefix = "{\"a\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[";
    // Pad both variants to the same header length, so dataStart is the same.
    String probe = prefix + "0000000000000000000,0000000000000000000]}}";
    long dataStart = 8L + probe.length();
    long last = Long.MAX_VALUE - dataStart;
    String atLimit = prefix + last + "," + last + "]}}";
    String overLimit = prefix + (last + 1) + "," + (last + 1) + "]}}";
    assertThat(atLimit.length()).isEqualTo(overLimit.length()).isEqualTo(probe.length());
    rejects(
        atLimit,
        0,
        Rule.DATA_NOT_TILED,
        "a",
        "starts at " + last + " but the previous tensor ends at 0 (a gap)");
    rejects(overLimit, 0, Rule.DATA_TRUNCATED, "a", "end " + (last + 1) + " lies beyond any file");
  }

  @Test
  void tiling() {
    rejects(
        "{\"a\":" + T + ",\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}}",
        16,
        Rule.DATA_NOT_TILED,
        "b",
        "starts at 12 but the previous tensor ends at 8 (a gap)");
    rejects(
        "{\"a\":" + T + ",\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
        8,
        Rule.DATA_NOT_TILED,
        "b",
        "starts at 4 but the previous tensor ends at 8 (an overlap)");
    rejects(
        "{\"a\":" + T + "}",
        4,
        Rule.DATA_TRUNCATED,
        "a",
        "ends at 8 but the data section has 4 bytes");
    rejects(
        "{\"a\":" + T + "}",
        9,
        Rule.TRAILING_BYTES,
        null,
        "tensors end at 8 but the data section has 9 bytes");
    rejects(
        "{}", 1, Rule.TRAILING_BYTES, null, "tensors end at 0 but the data section has 1 bytes");
  }

  @Test
  void namesMustBeUniqueAcrossShards() throws SafetensorsFormatException {
    List<TensorInfo> first = parse("{\"a\":" + T + "}", 8).tensorsByOffset();
    Set<String> seen = new HashSet<>();
    HeaderParser.checkUnique(FILE, first, seen);
    assertThat(seen).containsExactly("a");
    assertRule(
        fails(() -> HeaderParser.checkUnique(FILE, first, seen)),
        Rule.DUPLICATE_TENSOR,
        "a",
        "the name is used by another shard too");
  }
}
