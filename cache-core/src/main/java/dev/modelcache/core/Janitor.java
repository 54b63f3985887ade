package dev.modelcache.core;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

/**
 * Removes what dead processes left under a root: the trash, staging directories whose setup never
 * finished, and (when space is short) interrupted downloads whose writer is gone. Whether a writer
 * lives is {@link HolderFiles}'s judgement; the janitor only deletes what it is told is dead.
 *
 * <p>Thread-safe and stateless. Nothing it deletes is visible as an entry, so it takes no lock: a
 * directory another process deletes first is skipped.
 */
final class Janitor {

  private static final System.Logger LOG = System.getLogger(Janitor.class.getName());

  /** How old a staging directory being set up, still without an owner file, must be to count as debris. */
  static final Duration INIT_SETTLE_TIME = Duration.ofMinutes(10);

  private final CacheLayout layout;
  private final HolderFiles holders;
  private final Ticker ticker;

  Janitor(CacheLayout layout, HolderFiles holders, Ticker ticker) {
    this.layout = layout;
    this.holders = holders;
    this.ticker = ticker;
  }

  /** Empties the trash and removes abandoned half-created staging directories; failures are logged. */
  void cleanDebris() {
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(layout.trash)) {
      for (Path p : ds) {
        DurableFiles.deleteTree(p);
      }
    } catch (IOException e) {
      LOG.log(Level.DEBUG, () -> "could not empty " + layout.trash + ": " + e);
    }
    try (DirectoryStream<Path> ds =
        Files.newDirectoryStream(layout.staging, CacheLayout.INIT_PREFIX + "*")) {
      Instant settled = ticker.instant().minus(INIT_SETTLE_TIME);
      for (Path p : ds) {
        // A writer creates the directory, then its owner file: one without an owner may be that
        // young.
        Path owner = p.resolve(CacheLayout.OWNER);
        boolean abandoned = Files.exists(owner, LinkOption.NOFOLLOW_LINKS)
            ? !holders.isAlive(owner)
            : Files.getLastModifiedTime(p).toInstant().isBefore(settled);
        if (abandoned) {
          DurableFiles.deleteTree(p);
        }
      }
    } catch (IOException | RuntimeException e) {
      LOG.log(Level.DEBUG, () -> "could not clean " + layout.staging + ": " + e);
    }
  }

  /**
   * Deletes interrupted downloads of other models than {@code exceptName} whose writer is gone:
   * their space is worth more than their progress when the disk is short.
   *
   * @return how many were deleted
   */
  int removeAbandonedDownloads(String exceptName) {
    int removed = 0;
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(layout.staging)) {
      for (Path p : ds) {
        String name = CacheLayout.entryNameOfStaging(p.getFileName().toString());
        if (name != null
            && !name.equals(exceptName)
            && !holders.isAlive(p.resolve(CacheLayout.OWNER))) {
          DurableFiles.deleteTree(p);
          removed++;
        }
      }
    } catch (IOException e) {
      LOG.log(Level.DEBUG, () -> "could not remove abandoned downloads: " + e);
    }
    return removed;
  }
}
