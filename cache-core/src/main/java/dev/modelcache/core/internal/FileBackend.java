package dev.modelcache.core.internal;

import dev.modelcache.core.ObjectChangedException;
import dev.modelcache.core.SourceAccessDeniedException;
import dev.modelcache.core.SourceNotFoundException;
import dev.modelcache.core.StorageException;
import dev.modelcache.core.spi.ObjectKeys;
import dev.modelcache.core.spi.RemoteObject;
import dev.modelcache.core.spi.StorageBackend;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * The {@code file:} backend: a directory, typically on a network mount, read with positional
 * reads. Regular files are listed recursively; symbolic links are followed only when they stay
 * inside the source directory (a link leading out of it fails the listing). An object is pinned to
 * its size and modification time as listed: a file rewritten afterwards fails reads with
 * {@link ObjectChangedException}.
 *
 * <p>Thread-safe; holds no open files between calls, so {@link #close()} has nothing to release.
 */
public final class FileBackend implements StorageBackend {

  private final String scheme;

  /** A backend for {@code file:} URIs. */
  public FileBackend() {
    this("file");
  }

  /**
   * A backend that serves {@code scheme:} URIs whose path is a local directory (for wrappers that
   * add behaviour under their own scheme).
   */
  public FileBackend(String scheme) {
    this.scheme = Objects.requireNonNull(scheme, "scheme");
  }

  @Override
  public String scheme() {
    return scheme;
  }

  @Override
  public List<RemoteObject> list(URI source) throws IOException {
    Path dir = directoryOf(source);
    if (!Files.isDirectory(dir)) {
      throw new SourceNotFoundException(
          "source " + source + ": directory " + dir + " does not exist");
    }
    Path real = dir.toRealPath();
    List<RemoteObject> out = new ArrayList<>();
    try {
      // Walk the real directory, so that a source that is itself a link (a mount alias) works.
      Files.walkFileTree(real, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
          BasicFileAttributes target = attrs;
          if (attrs.isSymbolicLink()) {
            Path resolved;
            try {
              resolved = file.toRealPath();
            } catch (NoSuchFileException e) {
              throw new StorageException(
                  "source " + source + ": symbolic link " + file + " is dangling", false);
            }
            if (!resolved.startsWith(real)) {
              throw new StorageException(
                  "source " + source + ": symbolic link " + file
                      + " points outside the source directory, to " + resolved,
                  false);
            }
            target = Files.readAttributes(resolved, BasicFileAttributes.class);
            if (target.isDirectory()) {
              return FileVisitResult.CONTINUE; // its files are listed under their real path
            }
          }
          if (!target.isRegularFile()) {
            return FileVisitResult.CONTINUE;
          }
          StringBuilder rel = new StringBuilder();
          for (Path part : real.relativize(file)) {
            if (!rel.isEmpty()) {
              rel.append('/');
            }
            rel.append(part);
          }
          String key = file.toString();
          out.add(new RemoteObject(
              key,
              ObjectKeys.validate(key, rel.toString()),
              target.size(),
              etag(target),
              null,
              null));
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult visitFileFailed(Path file, IOException exc) throws IOException {
          throw exc;
        }
      });
    } catch (AccessDeniedException e) {
      throw new SourceAccessDeniedException("source " + source + ": cannot read " + e.getFile(), e);
    }
    if (out.isEmpty()) {
      throw new SourceNotFoundException(
          "source " + source + ": directory " + dir + " holds no files");
    }
    out.sort(Comparator.comparing(RemoteObject::relativePath));
    return out;
  }

  @Override
  public void read(RemoteObject object, long offsetBytes, ByteBuffer dst) throws IOException {
    long length = dst.remaining();
    if (offsetBytes < 0 || offsetBytes + length > object.sizeBytes()) {
      throw new IllegalArgumentException(String.format(
          Locale.ROOT,
          "range %d+%d is outside %s (%d bytes)",
          offsetBytes,
          length,
          object.key(),
          object.sizeBytes()));
    }
    Path file = Path.of(object.key());
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      checkUnchanged(object, file);
      long pos = offsetBytes;
      while (dst.hasRemaining()) {
        int n = ch.read(dst, pos);
        if (n < 0) {
          throw new ObjectChangedException(String.format(
              Locale.ROOT,
              "%s ended at offset %d, before the %d bytes listed",
              file,
              pos,
              object.sizeBytes()));
        }
        pos += n;
      }
      checkUnchanged(object, file);
    } catch (NoSuchFileException e) {
      throw new ObjectChangedException(file + " was removed after it was listed", e);
    } catch (AccessDeniedException e) {
      throw new SourceAccessDeniedException("cannot read " + file, e);
    }
  }

  @Override
  public void close() {
    // nothing held between calls
  }

  private void checkUnchanged(RemoteObject object, Path file) throws IOException {
    BasicFileAttributes now = Files.readAttributes(file, BasicFileAttributes.class);
    String etag = etag(now);
    if (!etag.equals(object.etag())) {
      throw new ObjectChangedException(String.format(
          Locale.ROOT,
          "%s changed after it was listed: it is now %d bytes modified %s, listed as %d bytes (%s)",
          file,
          now.size(),
          now.lastModifiedTime(),
          object.sizeBytes(),
          object.etag()));
    }
  }

  /** Size and modification time (in nanoseconds where the filesystem keeps them) pin a file. */
  static String etag(BasicFileAttributes attrs) {
    return Long.toHexString(attrs.size()) + "-"
        + Long.toHexString(attrs.lastModifiedTime().to(TimeUnit.NANOSECONDS));
  }

  private Path directoryOf(URI source) {
    if (!scheme.equalsIgnoreCase(source.getScheme())) {
      throw new IllegalArgumentException("the " + scheme + ": backend cannot list " + source);
    }
    String authority = source.getAuthority();
    if (authority != null && !authority.isEmpty() && !authority.equals("localhost")) {
      throw new IllegalArgumentException("source " + source + " names host '" + authority + "'; a "
          + scheme + ": source is a local path such as " + scheme + ":///mnt/models/llama/");
    }
    String path = source.getPath();
    if (path == null || !path.startsWith("/")) {
      throw new IllegalArgumentException("source " + source + " is not an absolute path");
    }
    return Path.of(path).normalize();
  }
}
