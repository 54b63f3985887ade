package dev.modelcache.common.json;

/** A JSON text broke the grammar or one of {@link JsonReader}'s strictness rules. */
public final class JsonException extends Exception {
  private static final long serialVersionUID = 1L;

  /** What kind of problem was found; callers map kinds to their own rules. */
  public enum Kind {
    /** Not well-formed JSON, or nested deeper than the limit. */
    SYNTAX,
    /** An object has the same key twice. */
    DUPLICATE_KEY,
    /** A value is of another type than the caller expects. */
    TYPE,
    /** A number is not an exact non-negative integer that fits in 64 bits. */
    NUMBER
  }

  private final Kind kind;
  private final int offset;
  private final String key;

  JsonException(Kind kind, int offset, String message) {
    this(kind, offset, message, null);
  }

  JsonException(Kind kind, int offset, String message, String key) {
    super(message + " at character " + offset);
    this.kind = kind;
    this.offset = offset;
    this.key = key;
  }

  /** The repeated key of a {@link Kind#DUPLICATE_KEY} error, else {@code null}. */
  public String key() {
    return key;
  }

  /** The kind of problem. */
  public Kind kind() {
    return kind;
  }

  /** Character offset into the text where the problem was found. */
  public int offset() {
    return offset;
  }
}
