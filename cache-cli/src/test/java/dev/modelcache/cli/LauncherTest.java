package dev.modelcache.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bin/modelcache in a copy of the repository layout: it runs a built tool on the JDK it finds, and
 * refuses (with MODELCACHE_NO_BUILD=1, so no Maven runs inside the test) when the tool is missing or
 * older than its sources.
 */
class LauncherTest {

  @TempDir
  Path repo;

  Path jar;
  Path source;

  @BeforeEach
  void layOutRepository() throws IOException {
    Files.createDirectories(repo.resolve("bin"));
    Files.copy(Path.of("..", "bin", "modelcache"), repo.resolve("bin/modelcache"));
    repo.resolve("bin/modelcache").toFile().setExecutable(true);
    Files.writeString(repo.resolve("pom.xml"), "<project/>");
    source = repo.resolve("cache-cli/src/main/java/dev/modelcache/cli/Main.java");
    Files.createDirectories(source.getParent());
    Files.writeString(source, "// stands for the sources");
    Files.writeString(repo.resolve("cache-cli/pom.xml"), "<project/>");
    Files.copy(Path.of("jvm.options"), repo.resolve("cache-cli/jvm.options"));
    Path lib = Files.createDirectories(repo.resolve("cache-cli/target/lib"));
    // The tool's classes as the jar, and everything else this test runs with as its lib directory.
    jar = repo.resolve("cache-cli/target/cache-cli-0.1.0-SNAPSHOT.jar");
    jarOf(Path.of("target", "classes"), jar);
    int n = 0;
    for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
      Path p = Path.of(entry).toAbsolutePath();
      if (p.toString().endsWith(".jar") && Files.isRegularFile(p)) {
        try {
          Files.createLink(
              lib.resolve(p.getFileName()), p); // a hard link: no copy, nothing shared to delete
        } catch (IOException | UnsupportedOperationException e) {
          Files.copy(p, lib.resolve(p.getFileName()));
        }
      } else if (Files.isDirectory(p)
          && !p.equals(Path.of("target", "classes").toAbsolutePath())
          && !p.getFileName().toString().equals("test-classes")) {
        jarOf(
            p,
            lib.resolve(
                "classes-" + n++ + ".jar")); // a sibling module's classes in a reactor build
      }
    }
    FileTime past = FileTime.from(Instant.now().minusSeconds(3600));
    for (Path p : List.of(repo.resolve("pom.xml"), repo.resolve("cache-cli/pom.xml"), source)) {
      Files.setLastModifiedTime(p, past);
    }
  }

  @Test
  void runsTheBuiltToolOnAJdk25() throws Exception {
    var r = launch("--version");
    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(r.stdout()).startsWith("modelcache 0.").contains("Java 25");
    assertThat(r.stderr()).isEmpty();

    // Exit statuses pass through the launcher.
    var usage = launch("frobnicate");
    assertThat(usage.exit()).isEqualTo(2);
  }

  @Test
  void refusesAToolOlderThanItsSources() throws Exception {
    Files.setLastModifiedTime(source, FileTime.from(Instant.now().plusSeconds(5)));
    var r = launch("--version");
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.stdout()).isEmpty();
    assertThat(r.stderr()).contains("not built (or out of date)");
  }

  @Test
  void refusesWhenNothingIsBuilt() throws Exception {
    Files.delete(jar);
    var r = launch("--version");
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.stderr()).contains("not built");
  }

  @Test
  void trainsAnAotCacheAndStartsTheToolWithItWhileItIsNewerThanTheJar() throws Exception {
    Files.copy(
        Path.of("..", "bin", "modelcache-train-aot"), repo.resolve("bin/modelcache-train-aot"));
    repo.resolve("bin/modelcache-train-aot").toFile().setExecutable(true);
    // The training server: S3Proxy from demo-lib, its logging jars from lib beside it.
    Path demoLib = Files.createDirectories(repo.resolve("cache-cli/target/demo-lib"));
    try (Stream<Path> lib = Files.list(repo.resolve("cache-cli/target/lib"))) {
      for (Path p :
          lib.filter(p -> p.getFileName().toString().startsWith("s3proxy-")).toList()) {
        Files.createLink(demoLib.resolve(p.getFileName()), p);
      }
    }
    Path aot = repo.resolve("cache-cli/target/modelcache.aot");

    var train = launch("--train-aot");
    assertThat(train.exit()).as(train.toString()).isZero();
    assertThat(train.stderr()).contains("wrote " + aot);
    assertThat(aot).isNotEmptyFile();

    var used = launch(List.of("-Xlog:aot=info:stderr"), "--version");
    assertThat(used.exit()).as(used.toString()).isZero();
    assertThat(used.stdout()).startsWith("modelcache 0.");
    assertThat(used.stderr()).contains("Opened AOT cache " + aot).doesNotContain("error");

    // Options the cache was not recorded with: the JVM goes on without it, and says nothing on
    // stdout.
    var mismatch = launch(List.of("-XX:+UseSerialGC", "-XX:-UseCompressedOops"), "--version");
    assertThat(mismatch.exit()).as(mismatch.toString()).isZero();
    assertThat(mismatch.stdout()).startsWith("modelcache 0.").doesNotContain("[");

    // A rebuilt jar makes the cache stale: the launcher leaves it out.
    Files.setLastModifiedTime(jar, FileTime.from(Instant.now().plusSeconds(60)));
    var stale = launch(List.of("-Xlog:aot=info:stderr"), "--version");
    assertThat(stale.exit()).as(stale.toString()).isZero();
    assertThat(stale.stderr()).doesNotContain("Opened AOT cache");
  }

  record Run(int exit, String stdout, String stderr) {}

  private Run launch(String... args) throws Exception {
    return launch(List.of(), args);
  }

  private Run launch(List<String> javaOptions, String... args) throws Exception {
    var command =
        new java.util.ArrayList<>(List.of("bash", repo.resolve("bin/modelcache").toString()));
    command.addAll(List.of(args));
    var pb = new ProcessBuilder(command);
    pb.environment().put("MODELCACHE_NO_BUILD", "1");
    pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
    pb.environment().put("MODELCACHE_JAVA_OPTS", String.join(" ", javaOptions));
    Process p = pb.start();
    var err = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
      try {
        return new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    return new Run(p.exitValue(), out, err.join());
  }

  private static void jarOf(Path classes, Path target) throws IOException {
    try (OutputStream file = Files.newOutputStream(target);
        JarOutputStream jar = new JarOutputStream(file);
        Stream<Path> walk = Files.walk(classes)) {
      for (Path p : walk.filter(Files::isRegularFile).sorted().toList()) {
        jar.putNextEntry(new JarEntry(classes.relativize(p).toString().replace('\\', '/')));
        Files.copy(p, jar);
        jar.closeEntry();
      }
    }
  }
}
