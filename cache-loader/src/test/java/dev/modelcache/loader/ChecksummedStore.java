package dev.modelcache.loader;

import dev.modelcache.core.SourceNotFoundException;
import dev.modelcache.core.spi.RemoteObject;
import dev.modelcache.core.spi.SourceChecksum;
import dev.modelcache.core.spi.StorageBackend;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A store for {@code rt:///dir/} sources: the files under a directory, each listed with the MD5
 * of its bytes as the checksum the store vouches for (as S3 does for a single-part object), and
 * hooks that run before a read or corrupt the bytes a read returns, as a faulty link would. Every
 * read is recorded in order. Register it with {@code ModelCache.Builder.backend}.
 */
final class ChecksummedStore implements StorageBackend {

  static final String SCHEME = "rt";

  /** Runs before each read; may wait or throw. */
  interface BeforeRead {
    void run(RemoteObject object, long offsetBytes, int lengthBytes) throws IOException;
  }

  /** A read of one range, as the engine asked for it. */
  record Read(String path, long offsetBytes, int lengthBytes) {}

  volatile BeforeRead beforeRead = (o, off, len) -> {};
  /** Reads recorded, in the order they started. */
  final List<Read> reads = new CopyOnWriteArrayList<>();
  /** Per "path@fileOffset": how many times the read that covers that byte should still flip it. */
  private final Map<String, AtomicInteger> flips = new ConcurrentHashMap<>();

  static URI uri(Path dir) {
    return URI.create(SCHEME + "://" + dir.toAbsolutePath() + "/");
  }

  /** The next {@code times} reads covering byte {@code offset} of {@code path} return it with its bits inverted. */
  void flipByte(String path, long offset, int times) {
    flips.put(path + "@" + offset, new AtomicInteger(times));
  }

  @Override
  public String scheme() {
    return SCHEME;
  }

  @Override
  public List<RemoteObject> list(URI source) throws IOException {
    Path dir = Path.of(source.getPath());
    if (!Files.isDirectory(dir)) {
      throw new SourceNotFoundException("no directory " + dir);
    }
    List<RemoteObject> out = new ArrayList<>();
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.filter(Files::isRegularFile).sorted().toList()) {
        String rel = dir.relativize(p).toString().replace('\\', '/');
        out.add(new RemoteObject(
            p.toString(), rel, Files.size(p), null, null, new SourceChecksum("MD5", md5(p))));
      }
    }
    return out;
  }

  @Override
  public void read(RemoteObject object, long offsetBytes, ByteBuffer dst) throws IOException {
    int length = dst.remaining();
    reads.add(new Read(object.relativePath(), offsetBytes, length));
    beforeRead.run(object, offsetBytes, length);
    int start = dst.position();
    try (FileChannel ch = FileChannel.open(Path.of(object.key()), StandardOpenOption.READ)) {
      long pos = offsetBytes;
      while (dst.hasRemaining()) {
        int n = ch.read(dst, pos);
        if (n < 0) {
          throw new IOException(object.key() + " ends at " + pos);
        }
        pos += n;
      }
    }
    for (Map.Entry<String, AtomicInteger> e : flips.entrySet()) {
      String key = e.getKey();
      int at = key.lastIndexOf('@');
      long offset = Long.parseLong(key.substring(at + 1));
      if (key.substring(0, at).equals(object.relativePath())
          && offset >= offsetBytes
          && offset < offsetBytes + length
          && e.getValue().getAndDecrement() > 0) {
        int i = start + (int) (offset - offsetBytes);
        dst.put(i, (byte) ~dst.get(i));
      }
    }
  }

  @Override
  public void close() {}

  private static String md5(Path p) throws IOException {
    try {
      return HexFormat.of()
          .formatHex(MessageDigest.getInstance("MD5").digest(Files.readAllBytes(p)));
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }
}
