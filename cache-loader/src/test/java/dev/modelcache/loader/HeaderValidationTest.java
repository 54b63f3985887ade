package dev.modelcache.loader;

import static org.assertj.core.api.Assertions.assertThat;

import dev.modelcache.loader.SafetensorsFormatException.Rule;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The invalid-file corpus: one file per rule, each rejected with that rule and the tensor named. */
class HeaderValidationTest {
  @TempDir
  Path dir;

  /** An invalid file: the header text, the data length, the rule it breaks, the tensor named (or null). */
  record Case(String label, String header, long dataBytes, Rule rule, String tensor) {
    @Override
    public String toString() {
      return rule + ": " + label;
    }
  }

  static final String T = "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";

  static List<Case> cases() {
    return List.of(
        new Case("bad utf-8 is handled by its own test", null, 0, Rule.HEADER_NOT_UTF8, null),
        new Case("leading space", " {\"a\":" + T + "}", 8, Rule.HEADER_NOT_OBJECT, null),
        new Case("array header", "[]", 0, Rule.HEADER_NOT_OBJECT, null),
        new Case("unclosed object", "{\"a\":" + T, 8, Rule.INVALID_JSON, null),
        new Case(
            "missing comma in entry",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[2] \"data_offsets\":[0,8]}}",
            8,
            Rule.INVALID_JSON,
            "a"),
        new Case("garbage after object", "{\"a\":" + T + "}x", 8, Rule.INVALID_JSON, null),
        new Case("NUL padding", "{\"a\":" + T + "}\0\0", 8, Rule.INVALID_JSON, null),
        new Case(
            "key repeated in entry",
            "{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
            8,
            Rule.DUPLICATE_KEY,
            "a"),
        new Case(
            "duplicate tensor", "{\"a\":" + T + ",\"a\":" + T + "}", 8, Rule.DUPLICATE_TENSOR, "a"),
        new Case(
            "metadata value not a string",
            "{\"__metadata__\":{\"k\":1},\"a\":" + T + "}",
            8,
            Rule.INVALID_METADATA,
            null),
        new Case("entry not an object", "{\"a\":[1]}", 0, Rule.INVALID_TENSOR_ENTRY, "a"),
        new Case(
            "unknown field",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}}",
            8,
            Rule.INVALID_TENSOR_ENTRY,
            "a"),
        new Case(
            "missing shape",
            "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}",
            8,
            Rule.INVALID_TENSOR_ENTRY,
            "a"),
        new Case(
            "lower-case dtype",
            "{\"a\":{\"dtype\":\"f32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
            8,
            Rule.UNKNOWN_DTYPE,
            "a"),
        new Case(
            "negative dimension",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}",
            8,
            Rule.INVALID_SHAPE,
            "a"),
        new Case(
            "fractional dimension",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}",
            8,
            Rule.INVALID_SHAPE,
            "a"),
        new Case(
            "dimension over 64 bits",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,8]}}",
            8,
            Rule.INVALID_SHAPE,
            "a"),
        new Case(
            "three offsets",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,8]}}",
            8,
            Rule.INVALID_DATA_OFFSETS,
            "a"),
        new Case(
            "one offset",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8]}}",
            8,
            Rule.INVALID_DATA_OFFSETS,
            "a"),
        new Case(
            "end before begin",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}",
            8,
            Rule.OFFSETS_REVERSED,
            "a"),
        new Case(
            "element count overflow",
            "{\"a\":{\"dtype\":\"U8\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}",
            8,
            Rule.ELEMENT_COUNT_OVERFLOW,
            "a"),
        new Case(
            "bit count overflow",
            "{\"a\":{\"dtype\":\"F64\",\"shape\":[2305843009213693952],\"data_offsets\":[0,8]}}",
            8,
            Rule.ELEMENT_COUNT_OVERFLOW,
            "a"),
        new Case(
            "three F4 are 12 bits",
            "{\"a\":{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,1]}}",
            1,
            Rule.PARTIAL_BYTES,
            "a"),
        new Case(
            "one F6 is 6 bits",
            "{\"a\":{\"dtype\":\"F6_E2M3\",\"shape\":[1],\"data_offsets\":[0,1]}}",
            1,
            Rule.PARTIAL_BYTES,
            "a"),
        new Case(
            "size mismatch",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}",
            8,
            Rule.SIZE_MISMATCH,
            "a"),
        new Case(
            "gap",
            "{\"a\":" + T + ",\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}}",
            16,
            Rule.DATA_NOT_TILED,
            "b"),
        new Case(
            "overlap",
            "{\"a\":" + T + ",\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
            8,
            Rule.DATA_NOT_TILED,
            "b"),
        new Case(
            "not from zero",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
            12,
            Rule.DATA_NOT_TILED,
            "a"),
        new Case("trailing bytes", "{\"a\":" + T + "}", 9, Rule.TRAILING_BYTES, null),
        new Case("truncated data", "{\"a\":" + T + "}", 7, Rule.DATA_TRUNCATED, "a"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void eachRuleIsEnforcedAndNamed(Case c) throws IOException {
    if (c.header() == null) {
      return; // covered by invalidUtf8IsRejected
    }
    Path f = Corpus.raw(dir.resolve("bad.safetensors"), c.header(), c.dataBytes());
    assertRejected(f, c.rule(), c.tensor());
  }

  static SafetensorsFormatException assertRejected(Path f, Rule rule, String tensor) {
    SafetensorsFormatException e = org.assertj.core.api.Assertions.catchThrowableOfType(
        SafetensorsFormatException.class, () -> SafetensorsFile.open(f));
    assertThat(e).as("expected %s", rule).isNotNull();
    assertThat(e.rule()).as(e.getMessage()).isEqualTo(rule);
    assertThat(e.file()).isEqualTo(f);
    assertThat(e.getMessage()).contains(f.toString()).contains(rule.name());
    if (tensor == null) {
      assertThat(e.tensor()).isEmpty();
    } else {
      assertThat(e.tensor()).contains(tensor);
      assertThat(e.getMessage()).contains("tensor '" + tensor + "'");
    }
    return e;
  }

  @Test
  void fileShorterThanEightBytes() throws IOException {
    Path f = Files.write(dir.resolve("short.safetensors"), new byte[7]);
    assertRejected(f, Rule.FILE_TOO_SHORT, null);
  }

  @Test
  void headerLengthOverTheLimitAllocatesNothing() throws IOException {
    // 2^64-1 and 100,000,001 are both refused before a buffer of that size could exist.
    Path f = Corpus.rawWithLength(
        dir.resolve("huge.safetensors"), -1L, "{}".getBytes(StandardCharsets.UTF_8), 0);
    assertRejected(f, Rule.HEADER_TOO_LARGE, null);
    Path g = Corpus.rawWithLength(
        dir.resolve("huge2.safetensors"), 100_000_001L, "{}".getBytes(StandardCharsets.UTF_8), 0);
    assertRejected(g, Rule.HEADER_TOO_LARGE, null);
  }

  @Test
  void headerLengthBeyondTheFile() throws IOException {
    Path f = Corpus.rawWithLength(
        dir.resolve("beyond.safetensors"), 99_999_999L, "{}".getBytes(StandardCharsets.UTF_8), 0);
    assertRejected(f, Rule.HEADER_BEYOND_FILE, null);
  }

  @Test
  void invalidUtf8IsRejected() throws IOException {
    byte[] header = "{\"a\u00ff\":{}}".getBytes(StandardCharsets.ISO_8859_1);
    Path f = Corpus.raw(dir.resolve("latin1.safetensors"), header, 0);
    assertRejected(f, Rule.HEADER_NOT_UTF8, null);
  }

  @Test
  void duplicateMetadataKeyAndNonObjectMetadata() throws IOException {
    Path f = Corpus.raw(
        dir.resolve("m1.safetensors"), "{\"__metadata__\":{\"k\":\"v\",\"k\":\"w\"}}", 0);
    assertRejected(f, Rule.DUPLICATE_KEY, null);
    Path g = Corpus.raw(dir.resolve("m2.safetensors"), "{\"__metadata__\":\"v\"}", 0);
    assertRejected(g, Rule.INVALID_METADATA, null);
  }

  @Test
  void deepNestingIsRejectedWithoutParsingIt() throws IOException {
    String deep = "{\"a\":" + "[".repeat(100_000) + "]".repeat(100_000) + "}";
    Path f = Corpus.raw(dir.resolve("deep.safetensors"), deep, 0);
    assertRejected(f, Rule.INVALID_TENSOR_ENTRY, "a");
    Path g = Corpus.raw(
        dir.resolve("deep2.safetensors"), "{\"__metadata__\":{\"k\":" + "[".repeat(1000) + "}}", 0);
    assertRejected(g, Rule.INVALID_METADATA, null);
  }

  @Test
  void hugeShapeIsBoundedNotAllocated() throws IOException {
    String dims = "1,".repeat(2_000_000) + "1";
    Path f = Corpus.raw(
        dir.resolve("rank.safetensors"),
        "{\"a\":{\"dtype\":\"U8\",\"shape\":[" + dims + "],\"data_offsets\":[0,1]}}",
        1);
    SafetensorsFormatException e = assertRejected(f, Rule.INVALID_SHAPE, "a");
    assertThat(e.getMessage()).contains("more than 1024");
  }

  @Test
  void truncatedByHugeOffsetsDoesNotOverflow() throws IOException {
    long big = Long.MAX_VALUE - 4;
    Path f = Corpus.raw(
        dir.resolve("far.safetensors"),
        "{\"a\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[" + big + "," + big + "]}}",
        0);
    SafetensorsFormatException e = assertRejected(f, Rule.DATA_TRUNCATED, "a");
    assertThat(e.getMessage()).contains(Long.toString(big));
  }

  @Test
  void everyRuleOfAFileHasACorpusEntry() {
    Set<Rule> covered = cases().stream()
        .map(Case::rule)
        .collect(Collectors.toCollection(() -> EnumSet.noneOf(Rule.class)));
    covered.addAll(List.of(Rule.FILE_TOO_SHORT, Rule.HEADER_TOO_LARGE, Rule.HEADER_BEYOND_FILE));
    // Index and directory rules are covered by ShardedModelTest.
    Set<Rule> fileRules = EnumSet.complementOf(EnumSet.of(
        Rule.INVALID_INDEX,
        Rule.INDEX_FILE_MISSING,
        Rule.INDEX_MISMATCH,
        Rule.NO_SAFETENSORS_FILES));
    assertThat(covered).containsAll(fileRules);
  }
}
