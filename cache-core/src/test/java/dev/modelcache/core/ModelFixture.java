package dev.modelcache.core;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/** A model on disk made of deterministic pseudo-random files, used as a {@code file:} source. */
final class ModelFixture {

  final Path dir;
  final Map<String, byte[]> files = new LinkedHashMap<>();

  private ModelFixture(Path dir) {
    this.dir = dir;
  }

  /** Creates {@code dir} with files of the given sizes named shard-N.bin (some in a subdirectory). */
  static ModelFixture create(Path dir, long seed, int... sizes) throws IOException {
    ModelFixture m = new ModelFixture(dir);
    Random random = new Random(seed);
    for (int i = 0; i < sizes.length; i++) {
      byte[] content = new byte[sizes[i]];
      random.nextBytes(content);
      m.put(i % 3 == 2 ? "sub/shard-" + i + ".bin" : "shard-" + i + ".bin", content);
    }
    return m;
  }

  void put(String relative, byte[] content) throws IOException {
    Path p = dir.resolve(relative);
    Files.createDirectories(p.getParent());
    Files.write(p, content);
    files.put(relative, content);
  }

  long sizeBytes() {
    return files.values().stream().mapToLong(b -> b.length).sum();
  }

  URI uri(String scheme) {
    return URI.create(scheme + "://" + dir.toAbsolutePath().toUri().getRawPath());
  }

  ModelSource source() {
    return ModelSource.of(uri("file"));
  }

  ModelSource source(String scheme) {
    return ModelSource.of(uri(scheme));
  }

  /** Whether {@code entryDir} holds exactly these files with these bytes. */
  boolean matches(Path entryDir) throws IOException {
    try (var walk = Files.walk(entryDir)) {
      long count = walk.filter(Files::isRegularFile).count();
      if (count != files.size()) {
        return false;
      }
    }
    for (var e : files.entrySet()) {
      Path p = entryDir.resolve(e.getKey());
      if (!Files.isRegularFile(p)
          || !java.util.Arrays.equals(Files.readAllBytes(p), e.getValue())) {
        return false;
      }
    }
    return true;
  }

  static String sha256(Path file) throws Exception {
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    return HexFormat.of().formatHex(sha.digest(Files.readAllBytes(file)));
  }
}
