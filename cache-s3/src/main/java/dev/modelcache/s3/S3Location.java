package dev.modelcache.s3;

import java.net.URI;
import java.util.Locale;

/**
 * A bucket and a key (or key prefix), parsed from an {@code s3://bucket/path} URI or from the
 * object names this backend hands out.
 *
 * @param bucket the bucket name
 * @param key the key or prefix, without a leading {@code /}; may be empty
 */
record S3Location(String bucket, String key) {

  private static final String SCHEME_PREFIX = "s3://";

  /**
   * Parses a source URI. The path is taken as a directory: {@code s3://b/models/llama} lists
   * {@code models/llama/...}, never {@code models/llama-2/...}.
   *
   * @throws IllegalArgumentException if the URI is not {@code s3://bucket[/prefix]}
   */
  static S3Location ofSource(URI source) {
    if (source.getScheme() == null
        || !source.getScheme().toLowerCase(Locale.ROOT).equals("s3")) {
      throw new IllegalArgumentException("not an s3: URI: " + source);
    }
    String bucket = source.getAuthority();
    if (bucket == null || bucket.isEmpty()) {
      throw new IllegalArgumentException(
          "no bucket in " + source + "; expected s3://bucket/prefix/");
    }
    if (source.getQuery() != null || source.getFragment() != null) {
      throw new IllegalArgumentException(
          "an s3: source takes no query or fragment: " + source + "; expected s3://bucket/prefix/");
    }
    String path = source.getPath() == null ? "" : source.getPath();
    while (path.startsWith("/")) {
      path = path.substring(1);
    }
    if (!path.isEmpty() && !path.endsWith("/")) {
      path = path + "/";
    }
    return new S3Location(bucket, path);
  }

  /** Parses a name made by {@link #objectName()}. */
  static S3Location ofObjectName(String name) {
    if (!name.startsWith(SCHEME_PREFIX)) {
      throw new IllegalArgumentException("not an object of the s3: backend: " + name);
    }
    int slash = name.indexOf('/', SCHEME_PREFIX.length());
    if (slash < 0) {
      throw new IllegalArgumentException("not an object of the s3: backend: " + name);
    }
    return new S3Location(name.substring(SCHEME_PREFIX.length(), slash), name.substring(slash + 1));
  }

  /** {@code s3://bucket/key}, unencoded: the object's name in listings and messages. */
  String objectName() {
    return SCHEME_PREFIX + bucket + "/" + key;
  }

  @Override
  public String toString() {
    return objectName();
  }
}
