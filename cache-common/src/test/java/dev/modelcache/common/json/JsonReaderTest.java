package dev.modelcache.common.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.modelcache.common.json.JsonException.Kind;
import dev.modelcache.common.json.JsonReader.JsonNumber;
import dev.modelcache.common.json.JsonReader.ValueKind;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.ThrowingConsumer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The strictness rules and typed reads that {@link JsonReader} promises beyond the grammar. */
class JsonReaderTest {
  private static JsonException fails(String text, int maxDepth, ThrowingConsumer<JsonReader> read) {
    JsonReader reader = new JsonReader(text, maxDepth);
    Throwable t = org.junit.jupiter.api.Assertions.assertThrows(
        JsonException.class, () -> read.accept(reader));
    return (JsonException) t;
  }

  private static void assertError(JsonException e, Kind kind, int offset, String message) {
    assertThat(e.kind()).isEqualTo(kind);
    assertThat(e.offset()).isEqualTo(offset);
    assertThat(e.getMessage()).isEqualTo(message + " at character " + offset);
  }

  @Test
  void nestingUpToTheLimitIsRead() throws JsonException {
    JsonReader reader = new JsonReader("[[{\"a\":[]}]]", 4);
    assertThat(reader.readValue()).isEqualTo(List.of(List.of(Map.of("a", List.of()))));
    reader.endOfText();
  }

  @Test
  void nestingOneDeeperThanTheLimitIsASyntaxErrorAtTheOpeningBracket() {
    assertError(
        fails("[[{\"a\":[[]]}]]", 4, JsonReader::readValue),
        Kind.SYNTAX,
        8,
        "nesting deeper than 4");
    assertError(
        fails("{\"a\":{\"b\":{}}}", 2, JsonReader::skipValue),
        Kind.SYNTAX,
        10,
        "nesting deeper than 2");
    assertError(fails("[]", 0, JsonReader::beginArray), Kind.SYNTAX, 0, "nesting deeper than 0");
  }

  @Test
  void depthIsGivenBackWhenContainersClose() throws JsonException {
    // Three sibling containers at the deepest level: each close must free its level.
    JsonReader reader = new JsonReader("[[1],[2],{\"a\":[3]}]", 3);
    assertThat(reader.readValue())
        .isEqualTo(List.of(
            List.of(new JsonNumber("1")),
            List.of(new JsonNumber("2")),
            Map.of("a", List.of(new JsonNumber("3")))));
    reader.endOfText();
  }

  @Test
  void duplicateKeyNamesTheKeyAndPointsAtItsSecondOccurrence() {
    JsonException e = fails("{\"a\":1, \"b\":2, \"a\":3}", 8, JsonReader::readValue);
    assertError(e, Kind.DUPLICATE_KEY, 15, "duplicate key \"a\"");
    assertThat(e.key()).isEqualTo("a");
    JsonException nested = fails("[{\"x\":{\"k\":[],\"k\":{}}}]", 8, JsonReader::skipValue);
    assertError(nested, Kind.DUPLICATE_KEY, 14, "duplicate key \"k\"");
    assertThat(nested.key()).isEqualTo("k");
  }

  @Test
  void duplicateKeyIsFoundAfterEscapesAreDecoded() {
    JsonException e = fails("{\"a\":1,\"\\u0061\":2}", 8, JsonReader::readValue);
    assertError(e, Kind.DUPLICATE_KEY, 7, "duplicate key \"a\"");
    assertThat(e.key()).isEqualTo("a");
  }

  @Test
  void longDuplicateKeyIsAbbreviatedInTheMessageButNotInTheKey() {
    String key = "k".repeat(100);
    JsonException e = fails("{\"" + key + "\":1,\"" + key + "\":2}", 8, JsonReader::readValue);
    assertError(e, Kind.DUPLICATE_KEY, 106, "duplicate key \"" + "k".repeat(77) + "...\"");
    assertThat(e.key()).isEqualTo(key);
  }

  @Test
  void pullReadingAnObjectYieldsKeysAndTypedValues() throws JsonException {
    JsonReader reader = new JsonReader(" { \"n\" : 42 , \"s\" : \"v\" , \"l\" : [ 7 , 8 ] } ", 8);
    reader.beginObject();
    assertThat(reader.nextKey()).isEqualTo("n");
    assertThat(reader.peek()).isEqualTo(ValueKind.NUMBER);
    assertThat(reader.readNonNegativeLong()).isEqualTo(42L);
    assertThat(reader.nextKey()).isEqualTo("s");
    assertThat(reader.peek()).isEqualTo(ValueKind.STRING);
    assertThat(reader.readString()).isEqualTo("v");
    assertThat(reader.nextKey()).isEqualTo("l");
    reader.beginArray();
    assertThat(reader.nextElement()).isTrue();
    assertThat(reader.readNonNegativeLong()).isEqualTo(7L);
    assertThat(reader.nextElement()).isTrue();
    assertThat(reader.readNonNegativeLong()).isEqualTo(8L);
    assertThat(reader.nextElement()).isFalse();
    assertThat(reader.nextKey()).isNull();
    assertThat(reader.offset()).isEqualTo(43);
    reader.endOfText();
    assertThat(reader.offset()).isEqualTo(44);
  }

  @Test
  void peekNamesEveryKindWithoutConsuming() throws JsonException {
    String[] texts = {"{}", "[]", "\"\"", "-1", "7", "true", "false", "null"};
    ValueKind[] kinds = {
      ValueKind.OBJECT,
      ValueKind.ARRAY,
      ValueKind.STRING,
      ValueKind.NUMBER,
      ValueKind.NUMBER,
      ValueKind.TRUE,
      ValueKind.FALSE,
      ValueKind.NULL
    };
    for (int i = 0; i < texts.length; i++) {
      JsonReader reader = new JsonReader("  " + texts[i], 8);
      assertThat(reader.peek()).as(texts[i]).isEqualTo(kinds[i]);
      assertThat(reader.offset()).isEqualTo(2);
      assertThat(reader.peek()).isEqualTo(kinds[i]);
    }
  }

  @ParameterizedTest
  @CsvSource({
    "0, 0",
    "7, 7",
    "10, 10",
    "1234567890123, 1234567890123",
    "9223372036854775807, 9223372036854775807",
  })
  void readsExactNonNegativeLongs(String text, long expected) throws JsonException {
    JsonReader reader = new JsonReader(text, 8);
    assertThat(reader.readNonNegativeLong()).isEqualTo(expected);
    assertThat(reader.offset()).isEqualTo(text.length());
    reader.endOfText();
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "-1|-1 is negative",
        "-0|-0 is negative",
        "1.0|1.0 is not written as an integer",
        "1e3|1e3 is not written as an integer",
        "1E3|1E3 is not written as an integer",
        "9223372036854775808|9223372036854775808 does not fit in 64 bits",
        "18446744073709551616|18446744073709551616 does not fit in 64 bits",
      })
  void rejectsNumbersThatAreNotExactNonNegativeLongsAtTheirFirstCharacter(
      String number, String message) {
    String text = "[ " + number + "]";
    JsonException e = fails(text, 8, r -> {
      r.beginArray();
      r.nextElement();
      r.readNonNegativeLong();
    });
    assertError(e, Kind.NUMBER, 2, message);
  }

  @Test
  void longNumberIsAbbreviatedInTheMessage() {
    String digits = "1".repeat(90);
    assertError(
        fails(digits, 8, JsonReader::readNonNegativeLong),
        Kind.NUMBER,
        0,
        "1".repeat(77) + "... does not fit in 64 bits");
    String fraction = "1".repeat(85) + ".5";
    assertError(
        fails(fraction, 8, JsonReader::readNonNegativeLong),
        Kind.NUMBER,
        0,
        "1".repeat(77) + "... is not written as an integer");
  }

  @Test
  void typedReadsOfAnotherKindAreTypeErrors() {
    assertError(
        fails(" 5", 8, JsonReader::readString), Kind.TYPE, 1, "expected a string but found number");
    assertError(
        fails("\"5\"", 8, JsonReader::readNonNegativeLong),
        Kind.TYPE,
        0,
        "expected a number but found string");
    assertError(
        fails("[]", 8, JsonReader::beginObject),
        Kind.TYPE,
        0,
        "expected an object but found array");
    assertError(
        fails("null", 8, JsonReader::beginArray), Kind.TYPE, 0, "expected an array but found null");
    assertError(
        fails("true", 8, JsonReader::readString), Kind.TYPE, 0, "expected a string but found true");
    assertError(
        fails("false", 8, JsonReader::readString),
        Kind.TYPE,
        0,
        "expected a string but found false");
    assertError(
        fails("{}", 8, JsonReader::readString), Kind.TYPE, 0, "expected a string but found object");
  }

  @Test
  void malformedNumberIsASyntaxErrorEvenForTypedReads() {
    assertError(
        fails("01", 8, JsonReader::readNonNegativeLong),
        Kind.SYNTAX,
        1,
        "malformed number: leading zero");
    assertError(fails("-", 8, JsonReader::readNonNegativeLong), Kind.SYNTAX, 1, "malformed number");
  }

  @Test
  void commasAreRequiredBetweenPulledElementsAndMembers() {
    assertError(
        fails("[1 2]", 8, r -> {
          r.beginArray();
          r.nextElement();
          r.readNonNegativeLong();
          r.nextElement();
        }),
        Kind.SYNTAX,
        3,
        "expected ',' or ']'");
    assertError(
        fails("{\"a\":\"x\" \"b\":1}", 8, r -> {
          r.beginObject();
          r.nextKey();
          r.readString();
          r.nextKey();
        }),
        Kind.SYNTAX,
        9,
        "expected ',' or '}'");
    assertError(
        fails("{\"a\":[] \"b\":1}", 8, r -> {
          r.beginObject();
          r.nextKey();
          r.skipValue();
          r.nextKey();
        }),
        Kind.SYNTAX,
        8,
        "expected ',' or '}'");
    assertError(
        fails("{\"a\":null \"b\":1}", 8, r -> {
          r.beginObject();
          r.nextKey();
          r.skipValue();
          r.nextKey();
        }),
        Kind.SYNTAX,
        10,
        "expected ',' or '}'");
  }

  @Test
  void whitespaceAfterACommaIsSkippedBeforeTheNextKey() throws JsonException {
    JsonReader reader = new JsonReader("{\"a\":1,\n\t \"b\":2}", 8);
    assertThat(reader.readValue())
        .isEqualTo(Map.of("a", new JsonNumber("1"), "b", new JsonNumber("2")));
  }

  @Test
  void skipValueLeavesTheReaderAtTheNextMember() throws JsonException {
    JsonReader reader =
        new JsonReader("{\"a\":[1,{\"b\":\"\\u00e9\"},[true,false,null,-1.5e3]],\"c\":9}", 8);
    reader.beginObject();
    assertThat(reader.nextKey()).isEqualTo("a");
    reader.skipValue();
    assertThat(reader.nextKey()).isEqualTo("c");
    assertThat(reader.readNonNegativeLong()).isEqualTo(9L);
    assertThat(reader.nextKey()).isNull();
    reader.endOfText();
  }

  @Test
  void stringsAreReturnedExactly() throws JsonException {
    assertThat(new JsonReader("\"plain\"", 8).readString()).isEqualTo("plain");
    assertThat(new JsonReader("\"\"", 8).readString()).isEmpty();
    assertThat(new JsonReader("\"a\\\"b\"", 8).readString()).isEqualTo("a\"b");
    assertThat(new JsonReader("\"\\n\"", 8).readString()).isEqualTo("\n");
    assertThat(new JsonReader("\"x\\u0009y\\t\"", 8).readString()).isEqualTo("x\ty\t");
    assertThat(new JsonReader("\"\\uFFFF\\uabcd\"", 8).readString()).isEqualTo("\uffff\uabcd");
    assertThat(new JsonReader("\"\\uD7FF\\uE000\"", 8).readString()).isEqualTo("\ud7ff\ue000");
    assertThat(new JsonReader("\"\\uDBFF\\uDFFF!\"", 8).readString()).isEqualTo("\uDBFF\uDFFF!");
  }

  @Test
  void stringsEndWhereTheirClosingQuoteIs() throws JsonException {
    JsonReader reader = new JsonReader("[\"a\\n\",\"b\"]", 8);
    assertThat(reader.readValue()).isEqualTo(List.of("a\n", "b"));
    reader.endOfText();
  }

  @Test
  void printableNamesCharactersOutsideAsciiAndControls() {
    assertError(
        fails("\u007f", 8, JsonReader::peek), Kind.SYNTAX, 0, "unexpected character '\\u007f'");
    assertError(
        fails("\u001f", 8, JsonReader::peek), Kind.SYNTAX, 0, "unexpected character '\\u001f'");
    assertError(
        fails(" ", 8, JsonReader::peek),
        Kind.SYNTAX,
        1,
        "unexpected end of text, expected a value");
    assertError(fails("~", 8, JsonReader::peek), Kind.SYNTAX, 0, "unexpected character '~'");
    assertError(
        fails("\"\\ \"", 8, JsonReader::readString), Kind.SYNTAX, 3, "invalid escape '\\ '");
    assertError(
        fails("\"\\~\"", 8, JsonReader::readString), Kind.SYNTAX, 3, "invalid escape '\\~'");
    assertError(fails("!", 8, JsonReader::peek), Kind.SYNTAX, 0, "unexpected character '!'");
    assertError(fails(":", 8, JsonReader::peek), Kind.SYNTAX, 0, "unexpected character ':'");
    assertError(fails("/", 8, JsonReader::peek), Kind.SYNTAX, 0, "unexpected character '/'");
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 79, 80})
  void abbreviateKeepsTextUpToEightyCharacters(int length) {
    String s = "x".repeat(length);
    assertThat(JsonReader.abbreviate(s)).isSameAs(s);
  }

  @Test
  void abbreviateCutsLongerTextToEightyCharacters() {
    String s = "abcdefghij".repeat(9);
    assertThat(JsonReader.abbreviate(s.substring(0, 81)))
        .isEqualTo(s.substring(0, 77) + "...")
        .hasSize(80);
    assertThat(JsonReader.abbreviate(s)).isEqualTo(s.substring(0, 77) + "...");
  }

  @ParameterizedTest
  @CsvSource({
    "0, 0",
    "42, 42",
    "9223372036854775807, 9223372036854775807",
    "0000000000000000001, 1",
    "9223372036854775808, -1",
    "9999999999999999999, -1",
    "10000000000000000000, -1",
    "-1, -1",
    "-0, -1",
    "1.5, -1",
    "1e3, -1",
    "'', -1",
  })
  void jsonNumberAsNonNegativeLong(String text, long expected) {
    assertThat(new JsonNumber(text).asNonNegativeLong()).isEqualTo(expected);
  }

  @Test
  void readValueKeepsNumbersAsTheirText() throws JsonException {
    Object v = new JsonReader("[-0.0,1E+2,12]", 8).readValue();
    assertThat(v)
        .isEqualTo(List.of(new JsonNumber("-0.0"), new JsonNumber("1E+2"), new JsonNumber("12")));
    assertThat(v).hasToString("[-0.0, 1E+2, 12]");
  }

  @Test
  void errorsAfterTheTopLevelValue() {
    assertThatThrownBy(() -> {
          JsonReader r = new JsonReader("{} x", 8);
          r.skipValue();
          r.endOfText();
        })
        .isInstanceOfSatisfying(
            JsonException.class,
            e -> assertError(e, Kind.SYNTAX, 3, "unexpected content after the top-level value"));
  }

  @Test
  void parseReadsExactlyOneValue() throws JsonException {
    assertThat(JsonReader.parse(" {\"a\": [1, \"x\", null]}\n", 4))
        .isEqualTo(Map.of("a", java.util.Arrays.asList(new JsonNumber("1"), "x", null)));
    assertError(
        fails("{} {}", 4, r -> JsonReader.parse("{} {}", 4)),
        Kind.SYNTAX,
        3,
        "unexpected content after the top-level value");
    assertThatThrownBy(() -> JsonReader.parse("[[[1]]]", 2))
        .isInstanceOfSatisfying(
            JsonException.class, e -> assertError(e, Kind.SYNTAX, 2, "nesting deeper than 2"));
  }
}
