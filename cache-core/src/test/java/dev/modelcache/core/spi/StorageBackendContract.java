package dev.modelcache.core.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.modelcache.core.ObjectChangedException;
import dev.modelcache.core.SourceNotFoundException;
import dev.modelcache.core.StorageException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The contract every {@link StorageBackend} keeps, as tests. A backend's test class extends this
 * and supplies a backend and a way to create, replace and name sources in its store. This class
 * is also published in the {@code cache-core} test jar so that other modules reuse it.
 */
public abstract class StorageBackendContract {

  /** The backend under test; closed after each test. */
  protected abstract StorageBackend createBackend() throws Exception;

  /** Creates a source holding {@code files} (relative path to content) and returns its prefix URI. */
  protected abstract URI createSource(Map<String, byte[]> files) throws Exception;

  /** Replaces one object of a source with new content (a new version, ETag or modification time). */
  protected abstract void replaceObject(URI source, String relativePath, byte[] content)
      throws Exception;

  /** A prefix URI of the backend's scheme under which nothing exists. */
  protected abstract URI missingSource() throws Exception;

  private StorageBackend backend;
  private final Random random = new Random(42);

  @BeforeEach
  void openBackend() throws Exception {
    backend = createBackend();
  }

  @AfterEach
  void closeBackend() throws Exception {
    backend.close();
    backend.close(); // idempotent
  }

  protected final StorageBackend backend() {
    return backend;
  }

  protected final byte[] bytes(int n) {
    byte[] b = new byte[n];
    random.nextBytes(b);
    return b;
  }

  @Test
  void listsEveryObjectSortedByPathWithExactSizes() throws Exception {
    Map<String, byte[]> files = new LinkedHashMap<>();
    files.put("z-last.bin", bytes(10));
    files.put("a/b/deep.bin", bytes(3000));
    files.put("a/first.json", bytes(1));
    files.put("m.safetensors", bytes(70_000));
    URI source = createSource(files);

    List<RemoteObject> listed = backend.list(source);

    assertThat(listed)
        .extracting(RemoteObject::relativePath)
        .containsExactly("a/b/deep.bin", "a/first.json", "m.safetensors", "z-last.bin");
    for (RemoteObject o : listed) {
      assertThat(o.sizeBytes()).as(o.relativePath()).isEqualTo(files.get(o.relativePath()).length);
      assertThat(o.etag() != null || o.versionId() != null || o.checksum() != null)
          .as("%s is pinned to an identity", o.relativePath())
          .isTrue();
    }
  }

  @Test
  void readsExactRangesAndAdvancesTheBufferToItsLimit() throws Exception {
    byte[] content = bytes(100_003);
    URI source = createSource(Map.of("w.bin", content));
    RemoteObject o = backend.list(source).getFirst();

    long[][] ranges = {
      {0, 1}, {0, 4096}, {1, 4095}, {50_000, 17}, {100_002, 1}, {0, 100_003}, {99_000, 1003}
    };
    for (long[] r : ranges) {
      ByteBuffer dst = ByteBuffer.allocateDirect((int) r[1] + 20);
      dst.position(7).limit(7 + (int) r[1]);
      backend.read(o, r[0], dst);
      assertThat(dst.position()).as("position after %d+%d", r[0], r[1]).isEqualTo(7 + (int) r[1]);
      byte[] got = new byte[(int) r[1]];
      dst.position(7);
      dst.get(got);
      assertThat(got)
          .as("bytes %d+%d", r[0], r[1])
          .isEqualTo(Arrays.copyOfRange(content, (int) r[0], (int) (r[0] + r[1])));
      dst.limit(dst.capacity());
      assertThat(dst.get(7 + (int) r[1])).as("byte past the limit is untouched").isZero();
    }
  }

  @Test
  void readsAnEmptyObjectAndAnEmptyRange() throws Exception {
    URI source = createSource(Map.of("empty.bin", new byte[0], "one.bin", bytes(5)));
    List<RemoteObject> listed = backend.list(source);
    assertThat(listed).extracting(RemoteObject::sizeBytes).containsExactly(0L, 5L);
    ByteBuffer none = ByteBuffer.allocate(0);
    backend.read(listed.get(1), 5, none);
    assertThat(none.position()).isZero();
  }

  @Test
  void concurrentReadsOfManyRangesAreIndependent() throws Exception {
    byte[] content = bytes(1 << 20);
    URI source = createSource(Map.of("big.bin", content));
    RemoteObject o = backend.list(source).getFirst();
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<byte[]>> futures = new ArrayList<>();
      int part = 1 << 16;
      for (int i = 0; i < 16; i++) {
        long off = (long) i * part;
        futures.add(pool.submit(() -> {
          ByteBuffer dst = ByteBuffer.allocate(part);
          backend.read(o, off, dst);
          return dst.array();
        }));
      }
      for (int i = 0; i < 16; i++) {
        assertThat(futures.get(i).get())
            .isEqualTo(Arrays.copyOfRange(content, i * part, (i + 1) * part));
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void anObjectReplacedAfterListingFailsItsReadsAsChanged() throws Exception {
    URI source = createSource(Map.of("m.bin", bytes(8192), "n.bin", bytes(100)));
    List<RemoteObject> listed = backend.list(source);
    RemoteObject m = listed.getFirst();

    replaceObject(source, "m.bin", bytes(8192)); // same size, other bytes

    assertThatThrownBy(() -> backend.read(m, 0, ByteBuffer.allocate(100)))
        .isInstanceOf(ObjectChangedException.class)
        .satisfies(e -> assertThat(((StorageException) e).retryable()).isFalse())
        .hasMessageContaining("m.bin");

    replaceObject(source, "n.bin", bytes(50)); // shorter
    assertThatThrownBy(() -> backend.read(listed.get(1), 60, ByteBuffer.allocate(40)))
        .isInstanceOf(ObjectChangedException.class);
  }

  @Test
  void aMissingSourceIsNotFound() throws Exception {
    URI missing = missingSource();
    assertThatThrownBy(() -> backend.list(missing))
        .isInstanceOf(SourceNotFoundException.class)
        .satisfies(e -> assertThat(((StorageException) e).retryable()).isFalse());
  }

  @Test
  void relativePathsAreSafeAndRelativeToTheSource() throws Exception {
    URI source = createSource(Map.of("x/y/z.bin", bytes(3)));
    RemoteObject o = backend.list(source).getFirst();
    assertThat(o.relativePath()).isEqualTo("x/y/z.bin");
    assertThat(ObjectKeys.validate(o.key(), o.relativePath())).isEqualTo("x/y/z.bin");
  }
}
