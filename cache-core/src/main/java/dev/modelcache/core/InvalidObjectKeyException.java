package dev.modelcache.core;

/**
 * Thrown when an object key from a listing cannot be a file under the cache root: it is absolute,
 * climbs out with {@code ..}, or contains a backslash, NUL or another control character. Nothing is
 * written for such a listing.
 */
public class InvalidObjectKeyException extends StorageException {
  private static final long serialVersionUID = 1L;

  private final String key;

  public InvalidObjectKeyException(String key, String rule) {
    super("unsafe object key '" + printable(key) + "': " + rule, false);
    this.key = key;
  }

  /** The offending key, as listed. */
  public String key() {
    return key;
  }

  private static String printable(String key) {
    var sb = new StringBuilder(key.length());
    for (int i = 0; i < key.length(); i++) {
      char c = key.charAt(i);
      if (Character.isISOControl(c)) {
        sb.append(String.format(java.util.Locale.ROOT, "\\u%04x", (int) c));
      } else {
        sb.append(c);
      }
    }
    return sb.toString();
  }
}
