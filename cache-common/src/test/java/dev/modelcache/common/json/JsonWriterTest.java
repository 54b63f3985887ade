package dev.modelcache.common.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.modelcache.common.json.JsonReader.JsonNumber;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What {@link JsonWriter} promises: its two layouts, exact numbers, escapes a reader takes back. */
class JsonWriterTest {

  private enum Colour {
    DARK_RED
  }

  @Test
  void compactTextHasNoWhitespaceAndKeepsTheOrderOfPuts() {
    JsonObject doc = JsonObject.create()
        .put("b", 1L)
        .put("a", List.of(true, false))
        .put("n", null)
        .put("o", JsonObject.create().put("k", "v"))
        .put("e", Colour.DARK_RED)
        .put("b", 2);
    assertThat(JsonWriter.compact(doc))
        .isEqualTo(
            "{\"b\":2,\"a\":[true,false],\"n\":null,\"o\":{\"k\":\"v\"},\"e\":\"dark_red\"}");
    assertThat(doc.toString()).isEqualTo(JsonWriter.compact(doc));
    assertThat(doc.get("b")).isEqualTo(2);
    assertThat(doc.get("missing")).isNull();
    assertThat(JsonWriter.compact(List.of())).isEqualTo("[]");
    assertThat(JsonWriter.compact(Map.of())).isEqualTo("{}");
    assertThat(JsonWriter.compact(new long[] {4096, 11008})).isEqualTo("[4096,11008]");
  }

  @Test
  void prettyTextBreaksTwoLevelsAndWritesDeeperContainersOnOneLine() {
    Map<String, Object> checksum = new LinkedHashMap<>();
    checksum.put("algorithm", "SHA-256");
    checksum.put("hex", "ab");
    JsonObject doc = JsonObject.create()
        .put("format", 1)
        .put(
            "files",
            List.of(
                JsonObject.create()
                    .put("path", "a")
                    .put("checksum", checksum)
                    .put("shape", new long[] {1, 2}),
                JsonObject.create().put("path", "b").put("checksum", null)))
        .put("none", List.of())
        .put("empty", JsonObject.create());
    assertThat(JsonWriter.pretty(doc)).isEqualTo("""
        {
          "format": 1,
          "files": [
            {"path": "a", "checksum": {"algorithm": "SHA-256", "hex": "ab"}, "shape": [1, 2]},
            {"path": "b", "checksum": null}
          ],
          "none": [],
          "empty": {}
        }
        """);
    assertThat(JsonWriter.pretty(JsonObject.create().put("version", 1)))
        .isEqualTo("{\n  \"version\": 1\n}\n");
    assertThat(JsonWriter.pretty("x")).isEqualTo("\"x\"\n");
  }

  @Test
  void numbersAreExactAndWholeDoublesHaveNoFraction() {
    assertThat(JsonWriter.compact(
            Arrays.asList(Long.MAX_VALUE, -1, (short) 7, 1.25, 2.0, 0.5f, -3.0, 1e15, 1e20)))
        .isEqualTo("[9223372036854775807,-1,7,1.25,2,0.5,-3,1.0E15,1.0E20]");
    assertThat(JsonWriter.compact(
            Arrays.asList(Double.NaN, Double.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY)))
        .isEqualTo("[null,null,null]");
  }

  @Test
  void optionalsAreTheirValueAndUnknownTypesAreRefusedByName() {
    assertThat(JsonWriter.compact(
            JsonObject.create().put("a", Optional.empty()).put("b", Optional.of("x"))))
        .isEqualTo("{\"a\":null,\"b\":\"x\"}");
    assertThatThrownBy(() -> JsonWriter.compact(List.of(Path.of("/x"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("cannot write a sun.nio.fs.UnixPath as JSON");
  }

  @Test
  void stringsEscapeWhatAParserOrAScriptNeeds() {
    assertThat(
            JsonWriter.quote("q\" b\\ \n\r\t\b\f \u0000\u001f \u007f\u009f \u00a0é \u2028\u2029"))
        .isEqualTo(
            "\"q\\\" b\\\\ \\n\\r\\t\\b\\f \\u0000\\u001f \\u007f\\u009f \u00a0é \\u2028\\u2029\"");
    assertThat(JsonWriter.quote("emoji \uD83D\uDE00")).isEqualTo("\"emoji \uD83D\uDE00\"");
    assertThat(JsonWriter.quote("lone \uD83D and \uDE00"))
        .isEqualTo("\"lone \\ud83d and \\ude00\"");
    assertThat(JsonWriter.quote("high at end \uD83D")).isEqualTo("\"high at end \\ud83d\"");
    assertThat(JsonWriter.quote(null)).isEqualTo("null");
  }

  @Test
  void whatIsWrittenReadsBackUnchanged() throws JsonException {
    String tricky =
        "quote\" backslash\\ newline\n tab\t nul\u0000 bell\u0007 ünïcödé \u2028 emoji \uD83D\uDE00";
    JsonObject doc = JsonObject.create()
        .put("s", tricky)
        .put("n", 42L)
        .put("list", List.of(JsonObject.create().put("k", "v")));
    for (String text : List.of(JsonWriter.compact(doc), JsonWriter.pretty(doc))) {
      assertThat(JsonReader.parse(text, 4))
          .isEqualTo(
              Map.of("s", tricky, "n", new JsonNumber("42"), "list", List.of(Map.of("k", "v"))));
    }
  }
}
