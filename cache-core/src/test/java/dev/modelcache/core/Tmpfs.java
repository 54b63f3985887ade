package dev.modelcache.core;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/** A small tmpfs mounted for one test (needs root; the test is skipped where mounting is not allowed). */
final class Tmpfs implements AutoCloseable {

  final Path dir;

  private Tmpfs(Path dir) {
    this.dir = dir;
  }

  static Tmpfs mount(Path dir, String options) throws Exception {
    Files.createDirectories(dir);
    Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", options, "tmpfs", dir.toString())
        .redirectErrorStream(true)
        .start();
    String out = new String(p.getInputStream().readAllBytes());
    int rc = p.waitFor();
    Assumptions.assumeTrue(rc == 0, "cannot mount a tmpfs here (needs root): " + out.trim());
    return new Tmpfs(dir);
  }

  long usableBytes() throws IOException {
    return Files.getFileStore(dir).getUsableSpace();
  }

  @Override
  public void close() throws IOException {
    try {
      new ProcessBuilder("umount", "-l", dir.toString()).inheritIO().start().waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
