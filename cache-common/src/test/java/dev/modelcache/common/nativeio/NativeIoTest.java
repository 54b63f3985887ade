package dev.modelcache.common.nativeio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The native calls on real files and mappings, their failures as typed errno values, and the
 * one hint of a JVM without native access. Tests run with native access (see the root pom).
 */
class NativeIoTest {
  @TempDir
  Path dir;

  private static NativeIo io() {
    return NativeIo.get()
        .orElseThrow(() -> new AssertionError("tests run on Linux with " + NativeIo.enableFlag()));
  }

  @Test
  void fallocateGivesTheFileItsLength() throws Exception {
    Path f = Files.createFile(dir.resolve("staging"));
    io().fallocate(f, 0, 3 << 20);
    assertThat(Files.size(f)).isEqualTo(3 << 20);
    io().fallocate(f, 1 << 20, 1 << 20);
    assertThat(Files.size(f))
        .as("a range inside the file does not change its length")
        .isEqualTo(3 << 20);
    assertThatThrownBy(() -> io().fallocate(f, 0, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("lengthBytes > 0");
  }

  @Test
  void failuresCarryTheirErrnoAndNameTheCallAndTheFile() throws Exception {
    Path missing = dir.resolve("missing");
    assertThatThrownBy(() -> io().fallocate(missing, 0, 4096))
        .isInstanceOfSatisfying(NativeIoException.class, e -> {
          assertThat(e.is(Errno.ENOENT)).isTrue();
          assertThat(e.code()).isEqualTo(Errno.ENOENT);
          assertThat(e.errno()).isEqualTo(2);
          assertThat(e.call()).isEqualTo("open");
          assertThat(e)
              .hasMessage(
                  "open of " + missing + " failed: ENOENT (errno 2, no such file or directory)");
        });
    assertThatThrownBy(() -> io().fallocate(dir, 0, 4096))
        .isInstanceOfSatisfying(
            NativeIoException.class, e -> assertThat(e.code()).isEqualTo(Errno.EISDIR));
    assertThatThrownBy(() -> io().fadvise(missing, FileAdvice.WILL_NEED))
        .isInstanceOfSatisfying(
            NativeIoException.class, e -> assertThat(e.is(Errno.ENOENT)).isTrue());
  }

  @Test
  void madviseAndMincoreOnAnUnmappedRangeFailWithEnomem() {
    long page = io().pageSizeBytes();
    @SuppressWarnings("restricted")
    MemorySegment unmapped =
        MemorySegment.ofAddress(page).reinterpret(page); // the second page is never mapped
    assertThatThrownBy(() -> io().madvise(unmapped, MemoryAdvice.WILL_NEED))
        .isInstanceOfSatisfying(NativeIoException.class, e -> {
          assertThat(e.is(Errno.ENOMEM)).isTrue();
          assertThat(e.getMessage())
              .startsWith("madvise(WILL_NEED) of " + page + " bytes at 0x")
              .endsWith("failed: ENOMEM (errno 12, out of memory, or the range is not mapped)");
        });
    assertThatThrownBy(() -> io().residentBytes(unmapped))
        .isInstanceOfSatisfying(
            NativeIoException.class, e -> assertThat(e.call()).isEqualTo("mincore"));
  }

  @Test
  void adviceAndResidencyWorkOnAMappedFile() throws Exception {
    Path f = dir.resolve("data");
    byte[] bytes = new byte[(int) (5 * io().pageSizeBytes() + 100)];
    java.util.Arrays.fill(bytes, (byte) 7);
    Files.write(f, bytes);
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ);
        Arena arena = Arena.ofConfined()) {
      MemorySegment map = ch.map(FileChannel.MapMode.READ_ONLY, 0, bytes.length, arena);
      io().madvise(map, MemoryAdvice.SEQUENTIAL);
      io().madvise(map.asSlice(10, 4000), MemoryAdvice.WILL_NEED); // widened to whole pages
      io().madvise(map.asSlice(0, 0), MemoryAdvice.RANDOM);
      long sum = 0;
      for (long i = 0; i < map.byteSize(); i++) {
        sum += map.get(java.lang.foreign.ValueLayout.JAVA_BYTE, i);
      }
      assertThat(sum).isEqualTo(7L * bytes.length);
      assertThat(io().residentBytes(map)).as("every page was just read").isEqualTo(bytes.length);
    }
    io().fadvise(f, FileAdvice.DONT_NEED);
    io().fadvise(f, FileAdvice.WILL_NEED);
  }

  @Test
  void errnoValuesAreTheLinuxNumbers() {
    assertThat(Errno.of(28)).isEqualTo(Errno.ENOSPC);
    assertThat(Errno.of(22)).isEqualTo(Errno.EINVAL);
    assertThat(Errno.of(95)).isEqualTo(Errno.EOPNOTSUPP);
    assertThat(Errno.of(122)).isEqualTo(Errno.EDQUOT);
    assertThat(Errno.of(-1)).isEqualTo(Errno.OTHER);
    assertThat(Errno.of(9999)).isEqualTo(Errno.OTHER);
    assertThat(Errno.ENOSPC.isNoSpace()).isTrue();
    assertThat(Errno.EDQUOT.isNoSpace()).isTrue();
    assertThat(Errno.EINVAL.isNoSpace()).isFalse();
    for (Errno e : Errno.values()) {
      if (e != Errno.OTHER) {
        assertThat(Errno.of(e.value())).isSameAs(e);
      }
    }
  }

  @Test
  void anUnlistedErrnoIsReportedByNumber() {
    var e = new NativeIoException("posix_fallocate", "4096 bytes at offset 0 of /x", 9999);
    assertThat(e).hasMessage("posix_fallocate of 4096 bytes at offset 0 of /x failed: errno 9999");
    assertThat(e.code()).isEqualTo(Errno.OTHER);
    assertThat(e.is(Errno.OTHER)).as("OTHER is not a value to match").isFalse();
    var full = new NativeIoException("posix_fallocate", "4096 bytes at offset 0 of /x", 28);
    assertThat(full.is(Errno.ENOSPC)).isTrue();
    assertThat(full.is(Errno.EINVAL)).isFalse();
    assertThat(full).hasMessageEndingWith("failed: ENOSPC (errno 28, no space left on the device)");
  }

  /** Run in a child JVM: asks for the calls three times. */
  public static final class Probe {
    private Probe() {}

    public static void main(String[] args) {
      for (int i = 0; i < 3; i++) {
        System.out.println("present=" + NativeIo.get().isPresent());
      }
    }
  }

  private static String runProbe(boolean nativeAccess) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    if (nativeAccess) {
      cmd.add("--enable-native-access=ALL-UNNAMED");
    }
    cmd.addAll(List.of(
        "-XX:-UsePerfData", "-cp", System.getProperty("java.class.path"), Probe.class.getName()));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    return out;
  }

  @Test
  void withoutNativeAccessTheFlagIsNamedOnce() throws Exception {
    String out = runProbe(false);
    assertThat(out.split("present=false", -1)).hasSize(4);
    assertThat(out.split(
            Pattern.quote("start the JVM with --enable-native-access=ALL-UNNAMED to enable them"),
            -1))
        .hasSize(2);
    String with = runProbe(true);
    assertThat(with.split("present=true", -1)).hasSize(4);
    assertThat(with).doesNotContain("native access is not enabled");
  }
}
