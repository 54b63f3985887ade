package dev.modelcache.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A root's liveness record, read as untrusted text, and how one process judges holder files by it:
 * the record's rules with their exact reasons, heartbeat freshness at the expiry's edge, and files
 * this process holds.
 */
class HolderFilesRecordTest {
  @TempDir
  Path root;

  private final AtomicReference<Instant> now =
      new AtomicReference<>(Instant.parse("2026-01-01T00:00:00Z"));
  private final InstantSource clock = () -> now.get();

  private HolderFiles open(Liveness requested) throws Exception {
    return HolderFiles.open(root, requested, Duration.ofSeconds(30), false, clock);
  }

  private void invalidRecord(String text) throws Exception {
    Path file = Files.writeString(root.resolve(HolderFiles.RECORD), text);
    assertThatThrownBy(() -> open(Liveness.AUTO))
        .as(text)
        .isInstanceOf(CacheRootException.class)
        .hasMessage("cache root " + root + " is unusable: its liveness record " + file
            + " is not valid: '" + text.strip()
            + "' (expected 'mode=locks' or 'mode=heartbeat' and 'expiryMillis=N')");
  }

  @Test
  void firstProcessRecordsTheLivenessItWasGiven() throws Exception {
    HolderFiles h =
        HolderFiles.open(root, Liveness.HEARTBEAT, Duration.ofMillis(1500), true, clock);
    assertThat(h.mode()).isEqualTo(Liveness.HEARTBEAT);
    assertThat(h.expiry()).isEqualTo(Duration.ofMillis(1500));
    assertThat(Files.readString(root.resolve(HolderFiles.RECORD)))
        .isEqualTo("mode=heartbeat\nexpiryMillis=1500\n");
    assertThat(h.describe()).isEqualTo("liveness by heartbeat (expiry PT1.5S)");
    try (var files = Files.list(root)) {
      assertThat(files)
          .extracting(p -> p.getFileName().toString())
          .containsExactly(HolderFiles.RECORD);
    }
    HolderFiles later = HolderFiles.open(root, Liveness.AUTO, Duration.ofSeconds(9), true, clock);
    assertThat(later.mode()).isEqualTo(Liveness.HEARTBEAT);
    assertThat(later.expiry()).as("the recorded expiry wins").isEqualTo(Duration.ofMillis(1500));
  }

  @Test
  void locksAreRecordedWithoutAnExpiry() throws Exception {
    HolderFiles h = open(Liveness.LOCKS);
    assertThat(Files.readString(root.resolve(HolderFiles.RECORD))).isEqualTo("mode=locks\n");
    assertThat(h.describe()).isEqualTo("liveness by kernel locks");
    assertThat(open(Liveness.LOCKS).mode()).isEqualTo(Liveness.LOCKS);
    assertThatThrownBy(() -> open(Liveness.HEARTBEAT))
        .isInstanceOf(CacheRootException.class)
        .hasMessageContaining(
            "it records liveness by kernel locks in " + root.resolve(HolderFiles.RECORD)
                + ", and this cache was configured with liveness HEARTBEAT;");
  }

  @Test
  void recordsAreReadLeniently() throws Exception {
    Files.writeString(
        root.resolve(HolderFiles.RECORD), " mode = Heartbeat \n\nnote\nexpiryMillis= 2000\n=x\n");
    HolderFiles h = open(Liveness.AUTO);
    assertThat(h.mode()).isEqualTo(Liveness.HEARTBEAT);
    assertThat(h.expiry()).isEqualTo(Duration.ofSeconds(2));
    Files.writeString(root.resolve(HolderFiles.RECORD), "mode=heartbeat");
    assertThat(open(Liveness.AUTO).expiry())
        .as("default expiry")
        .isEqualTo(HolderFiles.DEFAULT_EXPIRY);
  }

  @Test
  void invalidRecords() throws Exception {
    invalidRecord("");
    invalidRecord("mode=auto\n");
    invalidRecord("mode=sometimes\n");
    invalidRecord("mode=heartbeat\nexpiryMillis=0\n");
    invalidRecord("mode=heartbeat\nexpiryMillis=-5\n");
    invalidRecord("mode=heartbeat\nexpiryMillis=soon\n");
  }

  @Test
  void constructorRefusesAuto() {
    assertThatThrownBy(() -> new HolderFiles(Liveness.AUTO, Duration.ofSeconds(1), clock))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("a root's liveness is LOCKS or HEARTBEAT, not AUTO");
  }

  @Test
  void heartbeatIsFreshStrictlyBeforeTheExpiry() throws Exception {
    HolderFiles h = new HolderFiles(Liveness.HEARTBEAT, Duration.ofSeconds(30), clock);
    Path other = Files.writeString(root.resolve("other.holder"), "pid=1\n");
    Files.setLastModifiedTime(other, FileTime.from(now.get()));
    assertThat(h.isAlive(other)).isTrue();
    assertThat(h.lockHolderAlive(other)).isTrue();
    now.set(now.get().plusSeconds(30).minusMillis(1));
    assertThat(h.isAlive(other)).isTrue();
    now.set(now.get().plusMillis(1));
    assertThat(h.isAlive(other)).as("at the expiry").isFalse();
    assertThat(h.lockHolderAlive(other)).isFalse();
    assertThat(h.isAlive(root.resolve("missing"))).isFalse();
    assertThat(h.lockHolderAlive(root.resolve("missing"))).isFalse();
  }

  @Test
  void underLocksAnUnlockedFileHasNoHolderAndAnyLockFileIsAlive() throws Exception {
    HolderFiles h = new HolderFiles(Liveness.LOCKS, Duration.ofSeconds(30), clock);
    Path other = Files.writeString(root.resolve("other.holder"), "pid=1\n");
    assertThat(h.isAlive(other)).isFalse();
    assertThat(h.lockHolderAlive(other)).isTrue();
    assertThat(h.isAlive(root.resolve("missing"))).isFalse();
    try (HolderFiles.Renewal r = h.keepAlive(other)) {
      assertThat(r).isNotNull();
    }
  }

  @Test
  void filesThisProcessHoldsAreAliveUntilClosed() throws Exception {
    for (Liveness mode : new Liveness[] {Liveness.LOCKS, Liveness.HEARTBEAT}) {
      HolderFiles h = new HolderFiles(mode, Duration.ofSeconds(30), clock);
      Path file = root.resolve(mode + ".holder");
      HolderFiles.Held held = h.create(file);
      assertThat(held.path()).isEqualTo(file);
      assertThat(Files.exists(file)).isTrue();
      now.set(now.get().plusSeconds(3600));
      assertThat(h.isAlive(file)).as(mode + ": held here, whatever the clock").isTrue();
      assertThat(h.holder(file)).isEqualTo(Holder.current());
      assertThat(Files.readString(file)).isEqualTo(Holder.current().toLine());
      try (var files = Files.list(root)) {
        assertThat(files.filter(p -> p.getFileName().toString().endsWith(".tmp")))
            .isEmpty();
      }
      held.close();
      held.close();
      assertThat(Files.exists(file)).isFalse();
      assertThat(h.isAlive(file)).isFalse();
    }
  }
}
