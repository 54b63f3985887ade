package dev.modelcache.core.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.modelcache.core.StorageException;
import dev.modelcache.core.internal.FileBackend;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The backend contract, run against the {@code file:} backend, plus its own rules (symlinks). */
class FileBackendContractTest extends StorageBackendContract {

  @TempDir
  Path tmp;

  @Override
  protected StorageBackend createBackend() throws Exception {
    for (StorageBackendProvider p : ServiceLoader.load(StorageBackendProvider.class)) {
      if (p.scheme().equals("file")) {
        return p.create(BackendOptions.NONE);
      }
    }
    throw new AssertionError("no file: provider registered");
  }

  @Override
  protected URI createSource(Map<String, byte[]> files) throws Exception {
    Path dir = tmp.resolve("src-" + UUID.randomUUID());
    for (var e : files.entrySet()) {
      Path p = dir.resolve(e.getKey());
      Files.createDirectories(p.getParent());
      Files.write(p, e.getValue());
    }
    return dir.toUri();
  }

  @Override
  protected void replaceObject(URI source, String relativePath, byte[] content) throws Exception {
    Path p = Path.of(source).resolve(relativePath);
    FileTime before = Files.getLastModifiedTime(p);
    Files.write(p, content);
    // Coarse clocks could leave the time unchanged; a new version always has a new time.
    Files.setLastModifiedTime(p, FileTime.from(before.toInstant().plusSeconds(1)));
  }

  @Override
  protected URI missingSource() {
    return tmp.resolve("nothing-here").toUri();
  }

  @Test
  void followsSymlinksInsideTheSourceAndRejectsOnesLeadingOut() throws Exception {
    URI source = createSource(Map.of("real.bin", bytes(10)));
    Path dir = Path.of(source);
    Files.createSymbolicLink(dir.resolve("alias.bin"), dir.resolve("real.bin"));
    assertThat(backend().list(source))
        .extracting(RemoteObject::relativePath)
        .containsExactly("alias.bin", "real.bin");

    Path outside = tmp.resolve("secret.txt");
    Files.writeString(outside, "secret");
    Files.createSymbolicLink(dir.resolve("escape.bin"), outside);
    assertThatThrownBy(() -> backend().list(source))
        .isInstanceOf(StorageException.class)
        .hasMessageContaining("escape.bin")
        .hasMessageContaining("outside the source directory");
  }

  @Test
  void anEmptyDirectoryIsNotFound() throws Exception {
    Path empty = Files.createDirectories(tmp.resolve("empty"));
    assertThatThrownBy(() -> new FileBackend().list(empty.toUri()))
        .isInstanceOf(dev.modelcache.core.SourceNotFoundException.class)
        .hasMessageContaining("holds no files");
  }

  @Test
  void aTouchedFileCountsAsChanged() throws Exception {
    URI source = createSource(Map.of("t.bin", bytes(100)));
    RemoteObject o = backend().list(source).getFirst();
    Files.setLastModifiedTime(
        Path.of(source).resolve("t.bin"), FileTime.from(Instant.now().plusSeconds(60)));
    assertThatThrownBy(() -> backend().read(o, 0, java.nio.ByteBuffer.allocate(10)))
        .isInstanceOf(dev.modelcache.core.ObjectChangedException.class);
  }

  @Test
  void aSourceThatIsItselfALinkIsListedThroughIt() throws Exception {
    URI source = createSource(Map.of("a.bin", bytes(7), "d/b.bin", bytes(9)));
    Path alias =
        Files.createSymbolicLink(tmp.resolve("alias-" + UUID.randomUUID()), Path.of(source));
    assertThat(backend().list(alias.toUri()))
        .extracting(RemoteObject::relativePath)
        .containsExactly("a.bin", "d/b.bin");
  }
}
