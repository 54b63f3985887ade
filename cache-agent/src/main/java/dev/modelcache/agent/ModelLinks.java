package dev.modelcache.agent;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

/**
 * The folders serving pods read: {@code ROOT/models/NAME}, each a relative symbolic link to a cache
 * entry's directory ({@code ../entries/ENTRY/data}), so that it resolves wherever the volume is
 * mounted and stays inside it (Kubernetes refuses a {@code subPath} that leads out of its volume).
 *
 * <p>A link is replaced with {@code rename(2)} over the old one: a reader sees the old entry or the
 * new one, never neither. The entry a replaced or removed link pointed to is remembered by a link of
 * the same kind under {@code ROOT/agent/retired/}, until it has been evicted (it stays while a pod
 * leases it), so that what the agent must still release survives a restart.
 *
 * <p>Used by one thread at a time (the agent's loop).
 */
final class ModelLinks {

  /** Folder names KServe's serving pods may be given: one path segment, no hidden names. */
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,252}");

  private final Path root;
  private final Path models;
  private final Path retired;

  ModelLinks(Path root) {
    this.root = root.toAbsolutePath().normalize();
    this.models = this.root.resolve("models");
    this.retired = this.root.resolve("agent").resolve("retired");
  }

  Path modelsDirectory() {
    return models;
  }

  /**
   * KServe's folder name for a source: the first 16 hex digits of the SHA-256 of the URI as the
   * spec writes it ({@code GetStorageKey}); KServe's pod webhook mounts {@code models/KEY}.
   */
  static String storageKey(String sourceUri) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(sourceUri.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest).substring(0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError("every JDK has SHA-256", e);
    }
  }

  /** Why {@code name} cannot be a folder under {@code models/}, or empty if it can. */
  static Optional<String> invalidName(String name) {
    if (NAME.matcher(name).matches()) {
      return Optional.empty();
    }
    return Optional.of(
        "model name '" + name
            + "' cannot name a folder under models/: it must be one path segment of"
            + " letters, digits, '.', '_' or '-', starting with a letter or digit, at most 253 characters");
  }

  /**
   * Points {@code models/NAME} at {@code entryDirectory}, atomically replacing what was there.
   * What it pointed to before is retired; a real directory there (left by another agent) is
   * moved out of the way and deleted.
   *
   * @return true if the link changed
   */
  boolean point(String name, Path entryDirectory) throws IOException {
    Files.createDirectories(models);
    Path link = models.resolve(name);
    Path target = models.relativize(entryDirectory.toAbsolutePath().normalize());
    Optional<Path> current = target(link);
    if (current.isPresent()
        && current.get().equals(entryDirectory.toAbsolutePath().normalize())) {
      return false;
    }
    if (Files.isDirectory(link, LinkOption.NOFOLLOW_LINKS)) {
      removeForeignDirectory(link);
    }
    Path temporary = models.resolve(
        "." + name + ".tmp-" + Long.toHexString(ThreadLocalRandom.current().nextLong()));
    Files.createSymbolicLink(temporary, target);
    try {
      if (current.isPresent()) {
        retire(current.get());
      }
      Files.move(
          temporary, link, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      Files.deleteIfExists(temporary);
      throw new IOException(
          "cannot point " + link + " at " + entryDirectory + ": " + e.getMessage(), e);
    }
    return true;
  }

  /** The names of the links under {@code models/}. */
  List<String> linkNames() throws IOException {
    List<String> names = new ArrayList<>();
    if (!Files.isDirectory(models)) {
      return names;
    }
    try (DirectoryStream<Path> dir = Files.newDirectoryStream(models)) {
      for (Path p : dir) {
        String name = p.getFileName().toString();
        if (Files.isSymbolicLink(p) && !name.startsWith(".")) {
          names.add(name);
        }
      }
    }
    return names;
  }

  /** The absolute directory {@code models/NAME} points to, if it is a link. */
  Optional<Path> target(String name) throws IOException {
    return target(models.resolve(name));
  }

  /** Removes {@code models/NAME}, retiring what it pointed to. */
  void remove(String name) throws IOException {
    Path link = models.resolve(name);
    Optional<Path> current = target(link);
    if (current.isPresent()) {
      retire(current.get());
    }
    Files.deleteIfExists(link);
  }

  /** Remembers that the entry in {@code entryDirectory} is to be released. */
  void retire(Path entryDirectory) throws IOException {
    Files.createDirectories(retired);
    Path normalized = entryDirectory.toAbsolutePath().normalize();
    // The entry's directory name is its data folder; the one above it names the entry.
    Path named = normalized.getParent() == null ? normalized : normalized.getParent();
    Path link = retired.resolve(named.getFileName().toString());
    try {
      Files.createSymbolicLink(link, retired.relativize(normalized));
    } catch (FileAlreadyExistsException e) {
      // already retired
    }
  }

  /** The entry directories waiting to be released, with the links that remember them. */
  List<Retired> retired() throws IOException {
    List<Retired> out = new ArrayList<>();
    if (!Files.isDirectory(retired)) {
      return out;
    }
    try (DirectoryStream<Path> dir = Files.newDirectoryStream(retired)) {
      for (Path p : dir) {
        target(p).ifPresent(t -> out.add(new Retired(p, t)));
      }
    }
    return out;
  }

  /** An entry directory to release and the link under {@code agent/retired/} that remembers it. */
  record Retired(Path link, Path entryDirectory) {
    void forget() throws IOException {
      Files.deleteIfExists(link);
    }
  }

  private static Optional<Path> target(Path link) throws IOException {
    try {
      Path t = Files.readSymbolicLink(link);
      return Optional.of(link.getParent().resolve(t).normalize());
    } catch (NoSuchFileException | java.nio.file.NotLinkException e) {
      return Optional.empty();
    }
  }

  private void removeForeignDirectory(Path dir) throws IOException {
    Path aside = root.resolve("agent")
        .resolve("replaced")
        .resolve(dir.getFileName() + "." + Long.toHexString(System.nanoTime()));
    Files.createDirectories(aside.getParent());
    try {
      Files.move(dir, aside, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      throw new IOException(
          "cannot move " + dir + " out of the way to " + aside + ": " + e.getMessage(), e);
    }
    try (var walk = Files.walk(aside)) {
      for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        p.toFile().setWritable(true);
        Files.deleteIfExists(p);
      }
    }
  }
}
