package dev.modelcache.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How one process judges holder files: files another process locks ({@link LockHolder}, one JVM
 * for the class), files of its own by any name, files moved or replaced under their holder,
 * heartbeats judged and renewed with an injected clock, hidden files settling, and the failures
 * of a file system ({@link FaultyFileSystem}: locks that fail or are always taken, attributes that
 * cannot be read, files that may not be opened, a root that may not be written, another kind of
 * file system) with the decision each one gets.
 */
class HolderFilesJudgingTest {

  private static final Duration EXPIRY = Duration.ofSeconds(30);
  /** An expiry whose renewals run every millisecond. */
  private static final Duration SHORT_EXPIRY = Duration.ofMillis(3);

  private static LockHolder other;

  @TempDir
  Path dir;

  private final AtomicReference<Instant> now = new AtomicReference<>(Instant.now());
  private final InstantSource clock = now::get;
  private final FaultyFileSystem fs = new FaultyFileSystem();

  /** Renewals of a scratch file on the renewal thread, each releasing a permit: that thread's ticks. */
  private final Semaphore ticks = new Semaphore(0);
  /** While set, the next tick counts it down and waits for {@link #release}: the renewal thread is held. */
  private volatile CountDownLatch holding;

  private final CountDownLatch release = new CountDownLatch(1);
  private HolderFiles.Renewal metronome;

  @BeforeAll
  static void startOtherProcess() throws IOException {
    other = LockHolder.start();
  }

  @AfterAll
  static void stopOtherProcess() throws IOException {
    other.close();
  }

  @BeforeEach
  void startMetronome() throws IOException {
    Path scratch = Files.writeString(dir.resolve("metronome"), "");
    metronome = new HolderFiles(Liveness.HEARTBEAT, SHORT_EXPIRY, () -> {
          CountDownLatch h = holding;
          if (h != null) {
            holding = null;
            h.countDown();
            try {
              release.await();
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
          ticks.release();
          return Instant.now();
        })
        .keepAlive(scratch);
  }

  @AfterEach
  void stopMetronome() {
    release.countDown();
    metronome.close();
  }

  /**
   * Runs {@code action} while the renewal thread waits inside a tick, so that no renewal runs during
   * it: what is still scheduled afterwards runs only once it is let go.
   */
  private void whileNoRenewalRuns(Runnable action) throws InterruptedException {
    CountDownLatch entered = new CountDownLatch(1);
    holding = entered;
    assertThat(entered.await(30, TimeUnit.SECONDS))
        .as("the renewal thread runs")
        .isTrue();
    action.run();
    release.countDown();
  }

  /**
   * Waits for {@code n} more runs of the renewal thread. It runs every renewal of the JVM one after
   * another, so a renewal of a test's file that was running when this was called has finished, and
   * one due every millisecond has run again, when this returns.
   */
  private void awaitRenewalThread(int n) throws InterruptedException {
    ticks.drainPermits();
    assertThat(ticks.tryAcquire(n, 30, TimeUnit.SECONDS))
        .as("the renewal thread runs")
        .isTrue();
  }

  private HolderFiles holders(Liveness mode) {
    return new HolderFiles(mode, EXPIRY, clock);
  }

  /** Holder files judged with {@code SHORT_EXPIRY} and a clock that always says {@code at}, counting its calls. */
  private static HolderFiles renewingAt(Liveness mode, Instant at, AtomicInteger calls) {
    return new HolderFiles(mode, SHORT_EXPIRY, () -> {
      calls.incrementAndGet();
      return at;
    });
  }

  private static Instant modified(Path file) throws IOException {
    return Files.getLastModifiedTime(file).toInstant();
  }

  private static List<String> names(Path d) throws IOException {
    try (var files = Files.list(d)) {
      return files.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  // --- kernel locks ----------------------------------------------------------------------------

  @Test
  void underLocksAFileAnotherProcessLocksIsAliveUntilItLetsGo() throws Exception {
    HolderFiles h = holders(Liveness.LOCKS);
    Path file = Files.writeString(
        dir.resolve("theirs"), "pid=7 host=pod-b uid=1000 since=2026-01-01T00:00:00Z\n");
    other.lock(file);
    assertThat(h.isAlive(file)).isTrue();
    assertThat(h.lockHolderAlive(file)).isTrue();
    assertThat(h.holder(file))
        .isEqualTo(new Holder(7, "pod-b", 1000, Instant.parse("2026-01-01T00:00:00Z")));
    now.set(now.get().plus(Duration.ofDays(1)));
    assertThat(h.isAlive(file)).as("a lock needs no renewal").isTrue();
    assertThat(h.lockHolderAlive(file)).isTrue();
    other.unlock(file);
    assertThat(h.isAlive(file)).isFalse();
    assertThat(other.free(file)).as("the probe took nothing it kept").isTrue();
  }

  @Test
  void underHeartbeatsAFileAnotherProcessLocksLivesOnlyAsLongAsItIsRenewed() throws Exception {
    HolderFiles h = holders(Liveness.HEARTBEAT);
    Path file = Files.writeString(dir.resolve("theirs"), "pid=7\n");
    Files.setLastModifiedTime(file, FileTime.from(now.get()));
    other.lock(file);
    try {
      now.set(now.get().plus(EXPIRY));
      assertThat(h.isAlive(file))
          .as("locked, but not renewed within the expiry")
          .isFalse();
      assertThat(h.lockHolderAlive(file)).isFalse();
      Files.setLastModifiedTime(file, FileTime.from(now.get()));
      assertThat(h.isAlive(file)).isTrue();
      assertThat(h.lockHolderAlive(file)).isTrue();
    } finally {
      other.unlock(file);
    }
  }

  @Test
  void aHolderFileOfThisProcessIsLockedForOthersByEveryNameUntilClosed() throws Exception {
    HolderFiles h = holders(Liveness.LOCKS);
    Path file = dir.resolve("mine");
    Path link = dir.resolve("link");
    try (HolderFiles.Held held = h.create(file)) {
      assertThat(other.free(file)).isFalse();
      assertThat(other.judgesAlive(file)).isTrue();
      Files.createLink(link, file);
      assertThat(h.isAlive(link)).as("the same file by another name").isTrue();
      assertThat(h.holder(link)).isEqualTo(Holder.current());
      assertThat(other.free(file))
          .as("judging it here never opened it, which would drop the lock")
          .isFalse();
    }
    assertThat(file).doesNotExist();
    assertThat(other.free(link)).as("closing dropped the lock").isTrue();
    assertThat(other.judgesAlive(link)).isFalse();
  }

  @Test
  void aFileLockedThroughAnotherChannelOfThisProcessIsAlive() throws Exception {
    HolderFiles h = holders(Liveness.LOCKS);
    Path file = Files.writeString(dir.resolve("ours"), "pid=1\n");
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE);
        FileLock lock = ch.lock()) {
      assertThat(h.isAlive(file)).isTrue();
    }
    assertThat(h.isAlive(file)).isFalse();
  }

  // --- this process's files under heartbeats ---------------------------------------------------

  @Test
  void underHeartbeatsAHolderFileOfThisProcessIsAliveByAnyNameWhateverTheClock() throws Exception {
    HolderFiles h = holders(Liveness.HEARTBEAT);
    Path file = dir.resolve("mine");
    Path link = dir.resolve("link");
    try (HolderFiles.Held held = h.create(file)) {
      Files.createLink(link, file);
      now.set(now.get().plus(Duration.ofDays(1)));
      assertThat(h.isAlive(link)).isTrue();
      assertThat(h.isAlive(file)).isTrue();
    }
  }

  @Test
  void aHolderFileMovedAwayFromItsHolderIsForgotten() throws Exception {
    HolderFiles h = holders(Liveness.HEARTBEAT);
    Path file = dir.resolve("mine");
    Path moved = dir.resolve("moved");
    try (HolderFiles.Held held = h.create(file)) {
      now.set(now.get().plus(Duration.ofDays(1)));
      Files.move(file, moved); // by something else: its holder was not told
      try (LogCapture log = LogCapture.of(HolderFiles.class)) {
        assertThat(h.isAlive(moved))
            .as("not where its holder keeps it: judged by its heartbeat")
            .isFalse();
        assertThat(log.lines())
            .containsExactly("FINE holder file " + file
                + " of this process is gone; it no longer holds anything");
      }
      Files.move(moved, file);
      assertThat(h.isAlive(file))
          .as("once found gone, no longer this process's")
          .isFalse();
    }
  }

  @Test
  void aHolderFileReplacedUnderItsHolderNoLongerCountsAsHeldHere() throws Exception {
    HolderFiles h = holders(Liveness.HEARTBEAT);
    Path file = dir.resolve("mine");
    Path link = dir.resolve("link");
    try (HolderFiles.Held held = h.create(file)) {
      Files.createLink(link, file);
      Files.delete(file);
      Files.writeString(file, "pid=9\n");
      now.set(now.get().plus(Duration.ofDays(1)));
      assertThat(h.isAlive(link))
          .as("the old file, no longer at its holder's path")
          .isFalse();
    }
  }

  // --- renewals --------------------------------------------------------------------------------

  @Test
  void keepAliveRenewsAtOnceWithTheClockUntilClosed() throws Exception {
    Instant renewedAt = Instant.parse("2026-03-01T00:00:00Z");
    AtomicInteger calls = new AtomicInteger();
    HolderFiles h = renewingAt(Liveness.HEARTBEAT, renewedAt, calls);
    Path lock = Files.writeString(dir.resolve("lock"), "");
    HolderFiles.Renewal renewal = h.keepAlive(lock);
    awaitRenewalThread(3);
    assertThat(modified(lock)).isEqualTo(renewedAt);
    Instant untouched = Instant.parse("2026-04-01T00:00:00Z");
    AtomicInteger atClose = new AtomicInteger();
    whileNoRenewalRuns(() -> {
      renewal.close();
      atClose.set(calls.get());
    });
    Files.setLastModifiedTime(lock, FileTime.from(untouched));
    awaitRenewalThread(5);
    int after = atClose.get();
    assertThat(calls.get()).as("no renewal after close").isEqualTo(after);
    assertThat(modified(lock)).isEqualTo(untouched);
  }

  @Test
  void keepAliveOfAMissingFileGoesOnAndSaysWhy() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    HolderFiles h = renewingAt(Liveness.HEARTBEAT, Instant.parse("2026-03-01T00:00:00Z"), calls);
    Path lock = dir.resolve("gone");
    try (LogCapture log = LogCapture.of(HolderFiles.class);
        HolderFiles.Renewal renewal = h.keepAlive(lock)) {
      awaitRenewalThread(3);
      int before = calls.get();
      awaitRenewalThread(3);
      assertThat(calls.get()).as("still renewing").isGreaterThan(before);
      assertThat(log.lines())
          .contains("FINE could not renew the heartbeat of " + lock
              + ": java.nio.file.NoSuchFileException: " + lock);
    }
  }

  @Test
  void underLocksNothingIsRenewed() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    HolderFiles h = renewingAt(Liveness.LOCKS, Instant.parse("2026-03-01T00:00:00Z"), calls);
    Path lock = Files.writeString(dir.resolve("lock"), "");
    Instant untouched = modified(lock);
    try (HolderFiles.Renewal renewal = h.keepAlive(lock);
        HolderFiles.Held held = h.create(dir.resolve("mine"))) {
      awaitRenewalThread(5);
      assertThat(calls.get()).isZero();
      assertThat(modified(lock)).isEqualTo(untouched);
    }
  }

  @Test
  void aHolderFileIsRenewedUntilClosedAndAClosedHolderNeverTouchesItsSuccessor() throws Exception {
    Instant renewedAt = Instant.parse("2026-03-01T00:00:00Z");
    AtomicInteger calls = new AtomicInteger();
    HolderFiles h = renewingAt(Liveness.HEARTBEAT, renewedAt, calls);
    Path file = dir.resolve("mine");
    HolderFiles.Held held = h.create(file);
    awaitRenewalThread(3);
    assertThat(modified(file)).isEqualTo(renewedAt);
    AtomicInteger atClose = new AtomicInteger();
    whileNoRenewalRuns(() -> {
      held.close();
      atClose.set(calls.get());
    });
    assertThat(file).doesNotExist();
    int after = atClose.get();
    Files.writeString(file, "pid=9\n"); // the next holder's file of that name
    Instant successors = Instant.parse("2026-04-01T00:00:00Z");
    Files.setLastModifiedTime(file, FileTime.from(successors));
    awaitRenewalThread(5);
    assertThat(calls.get()).as("no renewal after close").isEqualTo(after);
    assertThat(modified(file)).isEqualTo(successors);
    held.close();
    assertThat(file).as("closing again removes nothing").exists();
  }

  @Test
  void aHolderFileThatCannotBeRenewedStopsBeingRenewedAndSaysWhen() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    HolderFiles h = renewingAt(Liveness.HEARTBEAT, Instant.parse("2026-03-01T00:00:00Z"), calls);
    Path file = dir.resolve("mine");
    String warning =
        "WARNING could not renew the heartbeat of " + file + " (java.nio.file.NoSuchFileException: "
            + file + "); other processes will judge its holder dead after " + SHORT_EXPIRY;
    try (LogCapture log = LogCapture.of(HolderFiles.class);
        HolderFiles.Held held = h.create(file)) {
      awaitRenewalThread(3);
      Files.delete(file); // removed under its holder
      for (int i = 0; i < 10_000 && !log.lines().contains(warning); i++) {
        awaitRenewalThread(1);
      }
      assertThat(log.lines()).contains(warning);
      awaitRenewalThread(2);
      int after = calls.get();
      Files.writeString(file, "pid=9\n");
      Instant other = Instant.parse("2026-04-01T00:00:00Z");
      Files.setLastModifiedTime(file, FileTime.from(other));
      awaitRenewalThread(5);
      assertThat(calls.get()).as("renewals stopped at the first failure").isEqualTo(after);
      assertThat(modified(file)).isEqualTo(other);
    }
  }

  // --- hidden files being created --------------------------------------------------------------

  @Test
  void aHiddenHolderFileIsJudgedOnlyOnceOlderThanTenMinutes() throws Exception {
    HolderFiles h = holders(Liveness.LOCKS);
    Path hidden = Files.writeString(dir.resolve(".lease.0b9a.tmp"), "");
    Instant made = Instant.parse("2026-06-01T00:00:00Z");
    Files.setLastModifiedTime(hidden, FileTime.from(made));
    now.set(made.plus(Duration.ofMinutes(10)));
    assertThat(h.settled(hidden)).isFalse();
    now.set(made.plus(Duration.ofMinutes(10)).plusMillis(1));
    assertThat(h.settled(hidden)).isTrue();
    assertThat(h.settled(dir.resolve(".missing.tmp"))).isFalse();
  }

  // --- failures of the file system -------------------------------------------------------------

  @Test
  void aNewHolderFileThatCannotBeLockedFailsUnderLocksAndLeavesNothing() throws Exception {
    Path d = fs.wrap(dir).resolve("holders");
    Files.createDirectory(d);
    fs.locks(FaultyFileSystem.Locks.FAIL);
    assertThatThrownBy(() -> holders(Liveness.LOCKS).create(d.resolve("a")))
        .isInstanceOf(IOException.class)
        .hasMessage("No locks available");
    assertThat(names(d)).isEmpty();
    fs.locks(FaultyFileSystem.Locks.BUSY);
    assertThatThrownBy(() -> holders(Liveness.LOCKS).create(d.resolve("b")))
        .isInstanceOf(IOException.class)
        .hasMessageStartingWith("could not lock the new holder file " + d.resolve(".b."))
        .hasMessageEndingWith(".tmp");
    assertThat(names(d)).isEmpty();
    fs.heal().failAttributes(p -> p.getFileName().toString().startsWith(".c."));
    assertThatThrownBy(() -> holders(Liveness.LOCKS).create(d.resolve("c")))
        .isInstanceOf(java.nio.file.FileSystemException.class)
        .hasMessageEndingWith(": " + FaultyFileSystem.EIO);
    assertThat(names(d)).isEmpty();
  }

  @Test
  void underHeartbeatsAHolderFileNeedsNoLock() throws Exception {
    Path d = fs.wrap(dir);
    for (FaultyFileSystem.Locks locks :
        new FaultyFileSystem.Locks[] {FaultyFileSystem.Locks.FAIL, FaultyFileSystem.Locks.BUSY}) {
      fs.locks(locks);
      Path file = d.resolve("holder-" + locks);
      try (HolderFiles.Held held = holders(Liveness.HEARTBEAT).create(file)) {
        assertThat(Files.readString(file))
            .as(locks.name())
            .isEqualTo(Holder.current().toLine());
      }
      assertThat(file).doesNotExist();
    }
  }

  @Test
  void holderFilesAndTheRecordAreReadableByAllUnderANarrowUmask() throws Exception {
    Path d = fs.wrap(dir);
    fs.createdFileMode("rw-------");
    try (HolderFiles.Held held = holders(Liveness.LOCKS).create(d.resolve("mine"))) {
      assertThat((Integer) Files.getAttribute(held.path(), "unix:mode") & 0777).isEqualTo(0644);
    }
    HolderFiles.open(d, Liveness.HEARTBEAT, EXPIRY, false, clock);
    assertThat((Integer) Files.getAttribute(d.resolve(HolderFiles.RECORD), "unix:mode") & 0777)
        .isEqualTo(0644);
  }

  @Test
  void whatCannotBeReadOrProbedIsJudgedAlive() throws Exception {
    Path d = fs.wrap(dir);
    Path theirs = Files.writeString(d.resolve("theirs"), "pid=7\n");
    HolderFiles locks = holders(Liveness.LOCKS);
    HolderFiles heartbeat = holders(Liveness.HEARTBEAT);
    now.set(now.get().plus(Duration.ofDays(1)));
    assertThat(locks.isAlive(theirs)).isFalse();
    assertThat(heartbeat.isAlive(theirs)).isFalse();

    fs.failAttributes(theirs::equals);
    assertThat(locks.isAlive(theirs)).isTrue();
    assertThat(heartbeat.isAlive(theirs)).isTrue();
    assertThat(heartbeat.lockHolderAlive(theirs)).isTrue();
    assertThat(heartbeat.holder(theirs)).isEqualTo(Holder.UNKNOWN);
    assertThat(heartbeat.settled(theirs)).isFalse();

    fs.heal().denyOpens(theirs::equals);
    try (LogCapture log = LogCapture.of(HolderFiles.class)) {
      assertThat(locks.isAlive(theirs)).as("another user's file").isTrue();
      assertThat(locks.isAlive(theirs)).isTrue();
      assertThat(log.lines().stream().filter(l -> l.startsWith("WARNING cannot read holder file ")))
          .as("said once for the JVM")
          .hasSizeLessThanOrEqualTo(1);
    }
    assertThat(heartbeat.isAlive(theirs)).as("judged by its time alone").isFalse();

    fs.heal().failOpens(theirs::equals, java.nio.file.NoSuchFileException::new);
    assertThat(locks.isAlive(theirs))
        .as("removed by its holder just before the probe")
        .isFalse();

    fs.heal().locks(FaultyFileSystem.Locks.FAIL);
    try (LogCapture log = LogCapture.of(HolderFiles.class)) {
      assertThat(locks.isAlive(theirs)).isTrue();
      assertThat(log.lines())
          .containsExactly("FINE could not probe holder file " + theirs
              + " (java.io.IOException: No locks available); judging it alive");
    }
    assertThat(locks.holder(d.resolve("missing"))).isEqualTo(Holder.UNKNOWN);
  }

  // --- deciding and recording a root's liveness ------------------------------------------------

  @Test
  void detectionTakesKernelLocksOnlyWhereTheyWork() throws Exception {
    Path d = fs.wrap(dir).resolve("root");
    Files.createDirectory(d);
    assertThat(HolderFiles.detect(d)).isEqualTo(Liveness.LOCKS);
    try (LogCapture log = LogCapture.of(HolderFiles.class)) {
      fs.storeType("nfs4");
      assertThat(HolderFiles.detect(d)).isEqualTo(Liveness.HEARTBEAT);
      fs.heal().locks(FaultyFileSystem.Locks.FAIL);
      assertThat(HolderFiles.detect(d)).isEqualTo(Liveness.HEARTBEAT);
      assertThat(log.lines())
          .containsExactly(
              "FINE " + d + " is on a nfs4 file system: liveness by heartbeat",
              "FINE file locks do not work in " + d
                  + " (java.io.IOException: No locks available): liveness by heartbeat");
    }
    fs.heal().locks(FaultyFileSystem.Locks.BUSY);
    assertThat(HolderFiles.detect(d))
        .as("a lock on a new file never granted")
        .isEqualTo(Liveness.HEARTBEAT);
    fs.heal().failAttributes(d::equals);
    assertThat(HolderFiles.detect(d))
        .as("a file store that cannot be asked")
        .isEqualTo(Liveness.HEARTBEAT);
    fs.heal().denyWrites(d);
    assertThat(HolderFiles.detect(d))
        .as("a local file system this user may not write")
        .isEqualTo(Liveness.LOCKS);
    fs.heal();
    assertThat(names(d)).as("no probe left").isEmpty();
  }

  @Test
  void aRootThisUserMayNotWriteIsJudgedByItsRecordOrByWhatWasAskedWithoutRecordingIt()
      throws Exception {
    Path d = fs.wrap(dir).resolve("root");
    Files.createDirectory(d);
    fs.denyWrites(d);
    try (LogCapture log = LogCapture.of(HolderFiles.class)) {
      HolderFiles h = HolderFiles.open(d, Liveness.AUTO, EXPIRY, false, clock);
      assertThat(h.mode()).isEqualTo(Liveness.LOCKS);
      assertThat(log.lines())
          .singleElement()
          .asString()
          .startsWith("FINE cannot record the liveness of " + d
              + " (java.nio.file.AccessDeniedException: " + d.resolve(".liveness."))
          .endsWith("); using liveness by kernel locks");
    }
    HolderFiles asked =
        HolderFiles.open(d, Liveness.HEARTBEAT, Duration.ofSeconds(12), true, clock);
    assertThat(asked.describe()).isEqualTo("liveness by heartbeat (expiry PT12S)");
    assertThat(names(d)).isEmpty();

    fs.heal();
    Files.writeString(d.resolve(HolderFiles.RECORD), "mode=heartbeat\nexpiryMillis=1500\n");
    fs.denyWrites(d);
    HolderFiles recorded = HolderFiles.open(d, Liveness.AUTO, EXPIRY, false, clock);
    assertThat(recorded.describe())
        .as("what the root records, not what this user could detect")
        .isEqualTo("liveness by heartbeat (expiry PT1.5S)");
  }

  @Test
  void openingSaysWhatItRecordedAndWarnsWhenTheRecordedExpiryWins() throws Exception {
    Path root = Files.createDirectory(dir.resolve("root"));
    Path locksRoot = Files.createDirectory(dir.resolve("locks-root"));
    Duration configured = Duration.ofSeconds(9);
    try (LogCapture log = LogCapture.of(HolderFiles.class)) {
      HolderFiles.open(root, Liveness.HEARTBEAT, Duration.ofMillis(1500), true, clock);
      HolderFiles.open(root, Liveness.AUTO, configured, true, clock);
      HolderFiles.open(root, Liveness.AUTO, configured, false, clock);
      HolderFiles.open(root, Liveness.HEARTBEAT, Duration.ofMillis(1500), true, clock);
      HolderFiles.open(locksRoot, Liveness.LOCKS, EXPIRY, false, clock);
      HolderFiles.open(locksRoot, Liveness.AUTO, configured, true, clock);
      assertThat(log.lines())
          .containsExactly(
              "INFO cache root " + root + ": liveness by heartbeat (expiry PT1.5S) (recorded in "
                  + root.resolve("liveness") + ")",
              "WARNING cache root " + root
                  + " records a heartbeat expiry of PT1.5S; using it instead of the configured PT9S",
              "INFO cache root " + locksRoot + ": liveness by kernel locks (recorded in "
                  + locksRoot.resolve("liveness") + ")");
    }
  }

  @Test
  void aRecordThatAnotherProcessMakesAndRemovesWhileThisOneRecordsIsReported() throws Exception {
    Path d = fs.wrap(dir).resolve("root");
    Files.createDirectory(d);
    fs.failLinks(p -> p.getFileName().toString().equals(HolderFiles.RECORD));
    assertThatThrownBy(() -> HolderFiles.open(d, Liveness.LOCKS, EXPIRY, false, clock))
        .isInstanceOf(CacheRootException.class)
        .hasMessage("cache root " + d + " is unusable: its liveness record "
            + d.resolve(HolderFiles.RECORD) + " cannot be read");
    assertThat(names(d)).as("no temporary record left").isEmpty();
  }

  @Test
  void aRecordThatAnotherProcessMakesFirstWins() throws Exception {
    Path d = fs.wrap(dir).resolve("root");
    Files.createDirectory(d);
    Path record = d.resolve(HolderFiles.RECORD);
    fs.failLinks(link -> {
      // the other process links its record in just before this one does
      try {
        Files.writeString(
            dir.resolve("root").resolve(HolderFiles.RECORD), "mode=heartbeat\nexpiryMillis=4000\n");
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      return false;
    });
    HolderFiles h = HolderFiles.open(d, Liveness.AUTO, EXPIRY, false, clock);
    assertThat(h.describe()).isEqualTo("liveness by heartbeat (expiry PT4S)");
    assertThat(names(d)).containsExactly(HolderFiles.RECORD);
    assertThat(Files.readString(record)).isEqualTo("mode=heartbeat\nexpiryMillis=4000\n");
  }

  @Test
  void aHolderFileThatCannotBeRemovedOnCloseIsLeftUnlockedForOthersToRemove() throws Exception {
    Path d = Files.createDirectory(fs.wrap(dir).resolve("holders"));
    Path file = d.resolve("mine");
    HolderFiles.Held held = holders(Liveness.LOCKS).create(file);
    fs.denyWrites(d);
    try (LogCapture log = LogCapture.of(HolderFiles.class)) {
      held.close();
      assertThat(log.lines())
          .containsExactly("FINE could not remove holder file " + file
              + ": java.nio.file.AccessDeniedException: " + file);
    }
    assertThat(file).exists();
    assertThat(other.judgesAlive(file)).as("its lock went with its holder").isFalse();
    assertThat(holders(Liveness.LOCKS).isAlive(file)).isFalse();
  }
}
