package dev.modelcache.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.modelcache.core.CacheTimeoutException;
import dev.modelcache.core.InsufficientSpaceException;
import dev.modelcache.core.IntegrityException;
import dev.modelcache.core.ManifestCorruptException;
import dev.modelcache.core.SourceAccessDeniedException;
import dev.modelcache.core.SourceNotFoundException;
import dev.modelcache.loader.SafetensorsFormatException;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

/** The one mapping from failures to exit statuses, which scripts and init containers branch on. */
class ExitCodeTest {

  @Test
  void invalidOrCorruptDataIsThree() {
    assertThat(ExitCode.of(new SafetensorsFormatException(
                Path.of("m.safetensors"),
                "w",
                SafetensorsFormatException.Rule.values()[0],
                "detail"))
            .status())
        .isEqualTo(3);
    assertThat(ExitCode.of(new IntegrityException("digest differs", "a.safetensors", 4096))
            .status())
        .isEqualTo(3);
    assertThat(ExitCode.of(new ManifestCorruptException(Path.of("manifest.json"), "not JSON"))
            .status())
        .isEqualTo(3);
  }

  @Test
  void timeoutsAreFourEvenWhenWrapped() {
    var timeout = new CacheTimeoutException("no commit", Duration.ofSeconds(1));
    assertThat(ExitCode.of(timeout).status()).isEqualTo(4);
    assertThat(ExitCode.of(new CompletionException(timeout)).status()).isEqualTo(4);
    assertThat(ExitCode.of(new ExecutionException(new CompletionException(timeout)))
            .status())
        .isEqualTo(4);
  }

  @Test
  void usageMistakesAreTwo() {
    assertThat(ExitCode.of(new UsageException("bad")).status()).isEqualTo(2);
    assertThat(ExitCode.of(new IllegalArgumentException("unknown option 'x' for the s3: backend"))
            .status())
        .isEqualTo(2);
  }

  @Test
  void runtimeFailuresAreOne() {
    assertThat(ExitCode.of(new SourceNotFoundException("no bucket b")).status()).isEqualTo(1);
    assertThat(ExitCode.of(new SourceAccessDeniedException("denied")).status()).isEqualTo(1);
    assertThat(ExitCode.of(new InsufficientSpaceException("full", 10, 5)).status())
        .isEqualTo(1);
    assertThat(ExitCode.of(new NoSuchFileException("/x")).status()).isEqualTo(1);
    assertThat(ExitCode.of(new IOException("reset")).status()).isEqualTo(1);
    assertThat(ExitCode.of(new IllegalStateException("a defect")).status()).isEqualTo(1);
  }

  @Test
  void defectsAreReportedAsInternalErrorsWithTheirType() {
    assertThat(ExitCode.isExpected(new IllegalStateException("x"))).isFalse();
    assertThat(Main.describe(new NullPointerException("boom")))
        .isEqualTo("java.lang.NullPointerException: boom");
    assertThat(ExitCode.isExpected(new IOException("x"))).isTrue();
    assertThat(Main.describe(new NoSuchFileException("/m/a.safetensors")))
        .isEqualTo("no such file or directory: /m/a.safetensors");
    assertThat(Main.describe(new IOException("line one\nline two")))
        .isEqualTo("line one; line two");
  }
}
