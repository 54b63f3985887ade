package dev.modelcache.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Preallocation reserves a staging file's blocks, and a full disk fails by its errno, before any download. */
class PreallocatorTest {
  @TempDir
  Path tmp;

  @Test
  void aFileThatFitsGetsItsLengthAndItsBlocks() throws Exception {
    Assumptions.assumeTrue(
        Preallocator.reservesBlocks(), "needs --enable-native-access for posix_fallocate");
    try (Tmpfs fs = Tmpfs.mount(tmp.resolve("fs"), "size=8m")) {
      Path f = Files.createFile(fs.dir.resolve("staging"));
      long before = fs.usableBytes();
      Preallocator.preallocate(f, 3 << 20, before);
      assertThat(Files.size(f)).isEqualTo(3 << 20);
      assertThat(before - fs.usableBytes())
          .as("the blocks are taken now, not when written")
          .isGreaterThanOrEqualTo(3 << 20);
      Preallocator.preallocate(Files.createFile(fs.dir.resolve("empty")), 0, before);
      assertThat(Files.size(fs.dir.resolve("empty"))).isZero();
    }
  }

  @Test
  void aFileLargerThanTheDiskIsInsufficientSpaceNamingTheErrno() throws Exception {
    Assumptions.assumeTrue(
        Preallocator.reservesBlocks(), "needs --enable-native-access for posix_fallocate");
    try (Tmpfs fs = Tmpfs.mount(tmp.resolve("fs"), "size=4m")) {
      Path f = Files.createFile(fs.dir.resolve("staging"));
      assertThatThrownBy(() -> Preallocator.preallocate(f, 8 << 20, 4 << 20))
          .isInstanceOfSatisfying(InsufficientSpaceException.class, e -> {
            assertThat(e.bytesNeeded()).isEqualTo(8 << 20);
            assertThat(e.bytesAvailable()).isEqualTo(4 << 20);
            assertThat(e)
                .hasMessage("no space to preallocate " + (8 << 20) + " bytes for " + f
                    + " (posix_fallocate: ENOSPC); " + (4 << 20) + " bytes were usable");
          });
    }
  }

  @Test
  void aFileThatCannotBeOpenedFailsAsTheExtensionReportsIt() {
    Path missing = tmp.resolve("no-such-dir").resolve("staging");
    assertThatThrownBy(() -> Preallocator.preallocate(missing, 4096, 1 << 20))
        .isInstanceOf(java.io.FileNotFoundException.class)
        .hasMessageContaining(missing.toString());
  }
}
