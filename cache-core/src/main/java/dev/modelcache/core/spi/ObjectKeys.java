package dev.modelcache.core.spi;

import dev.modelcache.core.InvalidObjectKeyException;

/**
 * Turns object keys from a remote listing into relative paths that are safe to create under the
 * cache root. Every backend maps its keys through here, so the rule lives in one place: nothing a
 * listing says can name a path outside the entry's directory.
 */
public final class ObjectKeys {

  /** The longest relative path accepted, in characters. */
  public static final int MAX_PATH_CHARS = 1024;

  private ObjectKeys() {}

  /**
   * Returns the path of {@code key} relative to {@code prefix}, after checking that it is safe.
   *
   * <p>Rejected: a key outside the prefix; an empty remainder; absolute paths; backslashes; NUL
   * and other control characters; empty, {@code .} and {@code ..} segments; over-long paths.
   *
   * @param prefix the listing prefix; may be empty
   * @param key the object's key, which must start with {@code prefix}
   * @return the relative path, {@code /}-separated
   * @throws InvalidObjectKeyException naming the key and the rule it breaks
   */
  public static String relativePath(String prefix, String key) throws InvalidObjectKeyException {
    if (!key.startsWith(prefix)) {
      throw new InvalidObjectKeyException(
          key, "it does not start with the prefix '" + prefix + "'");
    }
    return validate(key, key.substring(prefix.length()));
  }

  /**
   * Checks that {@code relative} is a safe relative path and returns it unchanged.
   *
   * @param key the original key, for the message
   * @throws InvalidObjectKeyException naming the key and the rule it breaks
   */
  public static String validate(String key, String relative) throws InvalidObjectKeyException {
    if (relative.isEmpty()) {
      throw new InvalidObjectKeyException(key, "it names the prefix itself, not a file under it");
    }
    if (relative.length() > MAX_PATH_CHARS) {
      throw new InvalidObjectKeyException(
          key, "it is longer than " + MAX_PATH_CHARS + " characters");
    }
    if (relative.startsWith("/")) {
      throw new InvalidObjectKeyException(key, "it is an absolute path");
    }
    for (int i = 0; i < relative.length(); i++) {
      char c = relative.charAt(i);
      if (c == '\\') {
        throw new InvalidObjectKeyException(key, "it contains a backslash");
      }
      if (c == 0) {
        throw new InvalidObjectKeyException(key, "it contains a NUL character");
      }
      if (Character.isISOControl(c)) {
        throw new InvalidObjectKeyException(
            key,
            String.format(java.util.Locale.ROOT, "it contains control character U+%04X", (int) c));
      }
    }
    if (relative.length() >= 2
        && relative.charAt(1) == ':'
        && Character.isLetter(relative.charAt(0))) {
      throw new InvalidObjectKeyException(key, "it starts with a drive letter");
    }
    for (String segment : relative.split("/", -1)) {
      if (segment.isEmpty()) {
        throw new InvalidObjectKeyException(key, "it contains an empty path segment");
      }
      if (segment.equals(".") || segment.equals("..")) {
        throw new InvalidObjectKeyException(key, "it contains a '" + segment + "' segment");
      }
      if (segment.length() > 255) {
        throw new InvalidObjectKeyException(key, "a path segment is longer than 255 characters");
      }
    }
    return relative;
  }
}
