package dev.modelcache.core;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * The identity of a model: a source prefix URI (a "directory" of objects) plus an optional
 * revision. Two sources are the same model exactly when their normalized URI and revision are
 * equal; a new revision is a new cache entry that downloads beside the old one.
 *
 * <p>The prefix always ends with {@code /}: {@code s3://bucket/models/llama} and
 * {@code s3://bucket/models/llama/} are the same model, and neither matches
 * {@code s3://bucket/models/llama-2/}. An empty prefix (a whole bucket, a filesystem root) is
 * rejected.
 *
 * @param uri the normalized prefix, with a lower-case scheme and a trailing {@code /}
 * @param revision a caller-chosen revision label, or {@code null}
 */
public record ModelSource(URI uri, String revision) {

  private static final int READABLE_CHARS = 44;

  /**
   * @throws InvalidModelSourceException if the URI is not absolute and hierarchical, has a query,
   *     has an empty prefix or a {@code .}/{@code ..} segment, or the revision is blank or has
   *     control characters
   */
  public ModelSource {
    Objects.requireNonNull(uri, "uri");
    uri = normalize(uri);
    if (revision != null) {
      if (revision.isBlank()) {
        throw new InvalidModelSourceException("revision of " + uri + " is blank");
      }
      if (revision.chars().anyMatch(Character::isISOControl)) {
        throw new InvalidModelSourceException(
            "revision of " + uri + " contains a control character");
      }
    }
  }

  /**
   * Parses {@code scheme://authority/prefix/} with an optional {@code #revision} fragment, for
   * example {@code s3://bucket/models/llama-3-70b/#2024-06} or {@code file:///mnt/models/llama/}.
   *
   * @throws InvalidModelSourceException naming the rule broken
   */
  public static ModelSource parse(String text) {
    Objects.requireNonNull(text, "text");
    URI parsed;
    try {
      parsed = new URI(text);
    } catch (URISyntaxException e) {
      throw new InvalidModelSourceException("not a URI: '" + text + "': " + e.getReason());
    }
    String revision = parsed.getFragment();
    URI prefix = URI.create(text.substring(0, fragmentStart(text)));
    return new ModelSource(prefix, revision == null || revision.isEmpty() ? null : revision);
  }

  /** The source {@code uri} with no revision. */
  public static ModelSource of(URI uri) {
    return new ModelSource(uri, null);
  }

  /** This source at {@code revision}. */
  public ModelSource withRevision(String revision) {
    return new ModelSource(uri, Objects.requireNonNull(revision, "revision"));
  }

  /** The revision, if any. */
  public Optional<String> revisionLabel() {
    return Optional.ofNullable(revision);
  }

  /** The URI scheme, lower case: it selects the storage backend. */
  public String scheme() {
    return uri.getScheme();
  }

  /**
   * The entry's directory name in the cache: a readable, sanitized part of the URI and revision
   * followed by a hash of both. It contains only {@code [A-Za-z0-9._-]}, never starts with a dot,
   * and is at most 100 characters, so no source can name a path outside the cache.
   */
  public String cacheName() {
    String where = (uri.getAuthority() == null ? "" : uri.getAuthority()) + uri.getPath();
    StringBuilder name = new StringBuilder(sanitize(scheme(), 12))
        .append('_')
        .append(sanitize(where, READABLE_CHARS));
    if (revision != null) {
      name.append('@').append(sanitize(revision, 24));
    }
    name.append('-').append(hash());
    return name.toString();
  }

  @Override
  public String toString() {
    return revision == null ? uri.toString() : uri + "#" + revision;
  }

  private String hash() {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(uri.toString().getBytes(StandardCharsets.UTF_8));
      sha.update((byte) 0);
      if (revision != null) {
        sha.update(revision.getBytes(StandardCharsets.UTF_8));
      }
      return HexFormat.of().formatHex(sha.digest(), 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError("SHA-256 is required of every JDK", e);
    }
  }

  private static String sanitize(String text, int maxChars) {
    StringBuilder out = new StringBuilder();
    boolean lastUnderscore = false;
    for (int i = 0; i < text.length() && out.length() < maxChars; i++) {
      char c = text.charAt(i);
      boolean ok = (c >= 'a' && c <= 'z')
          || (c >= 'A' && c <= 'Z')
          || (c >= '0' && c <= '9')
          || c == '-'
          || (c == '.' && out.length() > 0 && out.charAt(out.length() - 1) != '.');
      if (ok) {
        out.append(c);
        lastUnderscore = false;
      } else if (!lastUnderscore) {
        out.append('_');
        lastUnderscore = true;
      }
    }
    return out.toString();
  }

  private static int fragmentStart(String text) {
    int hash = text.indexOf('#');
    return hash < 0 ? text.length() : hash;
  }

  private static URI normalize(URI uri) {
    if (!uri.isAbsolute() || uri.getScheme() == null) {
      throw new InvalidModelSourceException(
          "source " + uri + " has no scheme (e.g. s3:// or file://)");
    }
    if (uri.isOpaque()) {
      throw new InvalidModelSourceException(
          "source " + uri + " is not a hierarchical URI (write scheme://...)");
    }
    if (uri.getRawQuery() != null) {
      throw new InvalidModelSourceException(
          "source " + uri + " has a query; a source is a prefix only");
    }
    if (uri.getRawFragment() != null) {
      throw new InvalidModelSourceException(
          "source " + uri + " has a fragment; pass the revision separately");
    }
    String path = uri.getPath() == null ? "" : uri.getPath();
    String trimmed = path.replaceAll("/+$", "").replaceAll("^/+", "");
    if (trimmed.isEmpty()) {
      throw new InvalidModelSourceException("source " + uri
          + " has an empty prefix: it would name a whole bucket or filesystem root");
    }
    for (String segment : trimmed.split("/+")) {
      if (segment.equals(".") || segment.equals("..")) {
        throw new InvalidModelSourceException(
            "source " + uri + " contains a '" + segment + "' segment");
      }
    }
    // One spelling per source: file:/a, file:///a and FILE:///a/ all become file:///a/.
    String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
    String authority = uri.getRawAuthority() == null ? "" : uri.getRawAuthority();
    String rawPath = uri.getRawPath();
    String normalized = scheme + "://" + authority + (rawPath.startsWith("/") ? "" : "/") + rawPath;
    if (!normalized.endsWith("/")) {
      normalized = normalized + "/";
    }
    return URI.create(normalized);
  }
}
