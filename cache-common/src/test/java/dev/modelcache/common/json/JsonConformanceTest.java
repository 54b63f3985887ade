package dev.modelcache.common.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.modelcache.common.json.JsonReader.JsonNumber;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Conformance of {@link JsonReader} with the RFC 8259 grammar: texts that the grammar accepts are
 * read to the exact value they denote, and texts that break one of its productions are rejected
 * as syntax errors at the character where the production fails.
 */
class JsonConformanceTest {
  /** A text the grammar accepts, and the value it denotes. */
  record Valid(String name, String text, Object value) {
    @Override
    public String toString() {
      return name;
    }
  }

  /** A text that breaks one production: its name, the offset of the error and the message start. */
  record Invalid(String rule, String text, int offset, String message) {
    @Override
    public String toString() {
      return rule;
    }
  }

  private static Map<String, Object> obj(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }

  private static List<Object> arr(Object... values) {
    return Arrays.asList(values);
  }

  private static JsonNumber num(String text) {
    return new JsonNumber(text);
  }

  static Stream<Valid> valid() {
    return Stream.of(
        new Valid("value: empty object", "{}", obj()),
        new Valid("value: empty array", "[]", arr()),
        new Valid("value: scalar at top level", "\"x\"", "x"),
        new Valid("value: true", "true", Boolean.TRUE),
        new Valid("value: false", "false", Boolean.FALSE),
        new Valid("value: null", "null", null),
        new Valid(
            "ws: all four kinds around tokens",
            " \t\n\r{ \t\n\r\"a\" \t\n\r: \t\n\r1 \t\n\r} \t\n\r",
            obj("a", num("1"))),
        new Valid(
            "object: members keep their order",
            "{\"b\":1,\"a\":2,\"c\":3}",
            obj("b", num("1"), "a", num("2"), "c", num("3"))),
        new Valid(
            "object: every kind of member value",
            "{\"o\":{},\"a\":[],\"s\":\"\",\"n\":0,\"t\":true,\"f\":false,\"z\":null}",
            obj("o", obj(), "a", arr(), "s", "", "n", num("0"), "t", true, "f", false, "z", null)),
        new Valid(
            "array: every kind of element",
            "[{},[],\"\",0,true,false,null]",
            arr(obj(), arr(), "", num("0"), true, false, null)),
        new Valid(
            "array: nested containers",
            "[[[]],{\"a\":[{}]}]",
            arr(arr(arr()), obj("a", arr(obj())))),
        new Valid(
            "object: same key in sibling objects",
            "[{\"a\":1},{\"a\":2}]",
            arr(obj("a", num("1")), obj("a", num("2")))),
        new Valid(
            "object: same key at two depths", "{\"a\":{\"a\":1}}", obj("a", obj("a", num("1")))),
        new Valid("number: zero", "0", num("0")),
        new Valid("number: minus zero", "-0", num("-0")),
        new Valid("number: many digits", "1234567890", num("1234567890")),
        new Valid("number: fraction", "-12.05", num("-12.05")),
        new Valid("number: zero with fraction", "0.5", num("0.5")),
        new Valid("number: exponent", "1e5", num("1e5")),
        new Valid("number: capital exponent with sign", "1E+05", num("1E+05")),
        new Valid("number: negative exponent after fraction", "2.5e-3", num("2.5e-3")),
        new Valid("number: zero exponent after zero", "0e0", num("0e0")),
        new Valid("number: in an array", "[1,-2,3.5]", arr(num("1"), num("-2"), num("3.5"))),
        new Valid(
            "string: every two-character escape",
            "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"",
            "\"\\/\b\f\n\r\t"),
        new Valid("string: \\u escape, both cases of hex", "\"\\u00e9\\u00C9\"", "\u00e9\u00c9"),
        new Valid("string: \\u escape of NUL", "\"\\u0000\"", "\0"),
        new Valid("string: escaped surrogate pair", "\"\\uD83D\\uDE00\"", "\uD83D\uDE00"),
        new Valid("string: text around escapes", "\"ab\\ncd\\u0041ef\"", "ab\ncdAef"),
        new Valid(
            "string: unescaped non-ASCII",
            "\"\u00e9\u4e2d\uD83D\uDE00\"",
            "\u00e9\u4e2d\uD83D\uDE00"),
        new Valid("string: DEL needs no escape", "\"\u007f\"", "\u007f"),
        new Valid("string: escaped solidus and plain solidus", "\"a/b\\/c\"", "a/b/c"));
  }

  static Stream<Invalid> invalid() {
    return Stream.of(
        new Invalid("JSON-text: empty text", "", 0, "unexpected end of text, expected a value"),
        new Invalid(
            "JSON-text: only whitespace", " \n", 2, "unexpected end of text, expected a value"),
        new Invalid(
            "JSON-text: two values", "1 2", 2, "unexpected content after the top-level value"),
        new Invalid(
            "JSON-text: value after object",
            "{}{}",
            2,
            "unexpected content after the top-level value"),
        new Invalid("ws: form feed is not whitespace", "\f1", 0, "unexpected character '\\u000c'"),
        new Invalid(
            "ws: no-break space is not whitespace", "\u00a01", 0, "unexpected character '\\u00a0'"),
        new Invalid("value: unknown bare word", "nul", 0, "invalid literal"),
        new Invalid("value: literal in capitals", "True", 0, "unexpected character 'T'"),
        new Invalid("value: truncated true", "[tru]", 1, "invalid literal"),
        new Invalid("value: truncated false", "fals", 0, "invalid literal"),
        new Invalid("value: single-quoted string", "'a'", 0, "unexpected character '''"),
        new Invalid("value: comment", "/*x*/1", 0, "unexpected character '/'"),
        new Invalid("value: NaN", "NaN", 0, "unexpected character 'N'"),
        new Invalid("object: unclosed", "{\"a\":1", 6, "expected ',' or '}'"),
        new Invalid("object: unclosed before first member", "{", 1, "expected a string key"),
        new Invalid("object: trailing comma", "{\"a\":1,}", 7, "expected a string key"),
        new Invalid("object: leading comma", "{,\"a\":1}", 1, "expected a string key"),
        new Invalid("object: missing comma", "{\"a\":1 \"b\":2}", 7, "expected ',' or '}'"),
        new Invalid("object: missing colon", "{\"a\" 1}", 5, "expected ':'"),
        new Invalid("object: missing value", "{\"a\":}", 5, "unexpected character '}'"),
        new Invalid("object: unquoted key", "{a:1}", 1, "expected a string key"),
        new Invalid("object: number as key", "{1:1}", 1, "expected a string key"),
        new Invalid("object: closed by bracket", "{\"a\":1]", 6, "expected ',' or '}'"),
        new Invalid("object: key without colon at end", "{\"a\"", 4, "expected ':'"),
        new Invalid("array: unclosed", "[1", 2, "expected ',' or ']'"),
        new Invalid(
            "array: unclosed before first element",
            "[",
            1,
            "unexpected end of text, expected a value"),
        new Invalid("array: trailing comma", "[1,]", 3, "unexpected character ']'"),
        new Invalid("array: leading comma", "[,1]", 1, "unexpected character ','"),
        new Invalid("array: double comma", "[1,,2]", 3, "unexpected character ','"),
        new Invalid("array: missing comma between numbers", "[1 2]", 3, "expected ',' or ']'"),
        new Invalid(
            "array: missing comma between strings", "[\"a\" \"b\"]", 5, "expected ',' or ']'"),
        new Invalid(
            "array: missing comma between literals", "[true false]", 6, "expected ',' or ']'"),
        new Invalid("array: missing comma between arrays", "[[] []]", 4, "expected ',' or ']'"),
        new Invalid("array: missing comma between objects", "[{} {}]", 4, "expected ',' or ']'"),
        new Invalid("array: closed by brace", "[1}", 2, "expected ',' or ']'"),
        new Invalid("array: colon as separator", "[1:2]", 2, "expected ',' or ']'"),
        new Invalid("number: plus sign", "+1", 0, "unexpected character '+'"),
        new Invalid("number: minus alone", "-", 1, "malformed number"),
        new Invalid("number: minus before letter", "-a", 1, "malformed number"),
        new Invalid("number: leading zero", "01", 1, "malformed number: leading zero"),
        new Invalid("number: negative leading zero", "-012", 2, "malformed number: leading zero"),
        new Invalid(
            "number: fraction without digits",
            "1.",
            2,
            "malformed number: digit expected after '.'"),
        new Invalid(
            "number: fraction followed by exponent",
            "1.e5",
            2,
            "malformed number: digit expected after '.'"),
        new Invalid("number: fraction without integer", ".5", 0, "unexpected character '.'"),
        new Invalid(
            "number: exponent without digits",
            "1e",
            2,
            "malformed number: digit expected in exponent"),
        new Invalid(
            "number: exponent sign without digits",
            "1e+",
            3,
            "malformed number: digit expected in exponent"),
        new Invalid(
            "number: exponent with letter",
            "1E-x",
            3,
            "malformed number: digit expected in exponent"),
        new Invalid(
            "number: hexadecimal", "0x1", 1, "unexpected content after the top-level value"),
        new Invalid("number: two dots", "1.2.3", 3, "unexpected content after the top-level value"),
        new Invalid("string: unterminated", "\"abc", 4, "unterminated string"),
        new Invalid("string: unterminated after escape", "\"a\\n", 4, "unterminated string"),
        new Invalid("string: backslash at end", "\"a\\", 3, "unterminated escape"),
        new Invalid("string: raw newline", "\"a\nb\"", 2, "unescaped control character in string"),
        new Invalid("string: raw NUL", "\"\0\"", 1, "unescaped control character in string"),
        new Invalid(
            "string: raw unit separator", "\"\u001f\"", 1, "unescaped control character in string"),
        new Invalid("string: unknown escape", "\"\\a\"", 3, "invalid escape '\\a'"),
        new Invalid("string: escaped apostrophe", "\"\\'\"", 3, "invalid escape '\\''"),
        new Invalid(
            "string: escaped control character", "\"\\\u0001\"", 3, "invalid escape '\\\\u0001'"),
        new Invalid("string: \\u with three digits", "\"\\u123\"", 3, "invalid \\u escape"),
        new Invalid("string: \\u with non-hex digit", "\"\\u12G4\"", 3, "invalid \\u escape"),
        new Invalid("string: \\u cut off by end", "\"\\u12", 3, "truncated \\u escape"),
        new Invalid(
            "string: \\u with exactly four chars left", "\"\\u0041", 7, "unterminated string"),
        new Invalid("string: lone high surrogate", "\"\\uD800\"", 7, "unpaired surrogate escape"),
        new Invalid(
            "string: lone high surrogate at end", "\"\\uDBFF", 7, "unpaired surrogate escape"),
        new Invalid(
            "string: high surrogate then letter escape",
            "\"\\uD800\\n\"",
            7,
            "unpaired surrogate escape"),
        new Invalid(
            "string: high surrogate then high surrogate",
            "\"\\uD800\\uD800\"",
            13,
            "unpaired surrogate escape"),
        new Invalid(
            "string: high surrogate then plain letter",
            "\"\\uD800\\u0041\"",
            13,
            "unpaired surrogate escape"),
        new Invalid("string: lone low surrogate", "\"\\uDC00\"", 7, "unpaired surrogate escape"),
        new Invalid(
            "string: low surrogate first", "\"\\uDFFF\\uD800\"", 7, "unpaired surrogate escape"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("valid")
  void acceptsWhatTheGrammarAccepts(Valid c) throws JsonException {
    JsonReader reader = new JsonReader(c.text(), 8);
    Object value = reader.readValue();
    assertThat(value).isEqualTo(c.value());
    assertThat(String.valueOf(value)).as("member order").isEqualTo(String.valueOf(c.value()));
    reader.endOfText();
    assertThat(reader.offset()).isEqualTo(c.text().length());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("valid")
  void skipsWhatTheGrammarAccepts(Valid c) throws JsonException {
    JsonReader reader = new JsonReader(c.text(), 8);
    reader.skipValue();
    reader.endOfText();
    assertThat(reader.offset()).isEqualTo(c.text().length());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalid")
  void rejectsWhatBreaksAProduction(Invalid c) {
    JsonReader reader = new JsonReader(c.text(), 8);
    assertThatThrownBy(() -> {
          reader.readValue();
          reader.endOfText();
        })
        .isInstanceOfSatisfying(JsonException.class, e -> {
          assertThat(e.kind()).isEqualTo(JsonException.Kind.SYNTAX);
          assertThat(e.offset()).isEqualTo(c.offset());
          assertThat(e.getMessage()).isEqualTo(c.message() + " at character " + c.offset());
          assertThat(e.key()).isNull();
        });
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalid")
  void skippingFindsTheSameError(Invalid c) {
    JsonReader reader = new JsonReader(c.text(), 8);
    assertThatThrownBy(() -> {
          reader.skipValue();
          reader.endOfText();
        })
        .isInstanceOfSatisfying(JsonException.class, e -> {
          assertThat(e.kind()).isEqualTo(JsonException.Kind.SYNTAX);
          assertThat(e.offset()).isEqualTo(c.offset());
        });
  }
}
