package dev.modelcache.core;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Reads the downloads in progress or interrupted, of every process, from their staging
 * directories: the draft manifest says what the download is, the journal how far it got, the
 * owner file whether its writer lives, the reserved marker whether it has reserved its space.
 *
 * <p>Thread-safe and stateless: each call reads the disk afresh. It never writes.
 */
final class DownloadListing {

  private final CacheLayout layout;
  private final HolderFiles holders;

  DownloadListing(CacheLayout layout, HolderFiles holders) {
    this.layout = layout;
    this.holders = holders;
  }

  /** Every staging directory with a readable draft, as a status. */
  List<DownloadStatus> downloads() throws IOException {
    List<DownloadStatus> out = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(layout.staging)) {
      for (Path p : ds) {
        String name = CacheLayout.entryNameOfStaging(p.getFileName().toString());
        if (name == null) {
          continue;
        }
        Manifest draft;
        try {
          draft = Manifest.read(p.resolve(CacheLayout.DRAFT));
        } catch (IOException e) {
          continue; // being set up, committed a moment ago, or debris
        }
        Path owner = p.resolve(CacheLayout.OWNER);
        boolean alive = holders.isAlive(owner);
        out.add(new DownloadStatus(
            draft.source(),
            name,
            bytesDone(p, draft),
            draft.sizeBytes(),
            alive ? holders.holder(owner) : Holder.UNKNOWN,
            alive,
            Files.exists(p.resolve(CacheLayout.RESERVED), LinkOption.NOFOLLOW_LINKS)));
      }
    }
    return out;
  }

  /** The bytes of the blocks the journal of {@code staging} records as written, each block once. */
  private static long bytesDone(Path staging, Manifest draft) throws IOException {
    long done = 0;
    Set<Long> seen = new HashSet<>();
    int[] blockCounts = new int[draft.files().size()];
    for (int i = 0; i < blockCounts.length; i++) {
      blockCounts[i] = (int) ((draft.files().get(i).sizeBytes() + draft.blockSizeBytes() - 1)
          / draft.blockSizeBytes());
    }
    for (Journal.Entry j : Journal.read(staging.resolve(CacheLayout.JOURNAL), blockCounts)) {
      if (j.fileIndex() < draft.files().size()
          && seen.add(((long) j.fileIndex() << 32) | j.blockIndex())) {
        long size = draft.files().get(j.fileIndex()).sizeBytes();
        long start = j.blockIndex() * draft.blockSizeBytes();
        done += Math.max(0, Math.min(draft.blockSizeBytes(), size - start));
      }
    }
    return done;
  }

  /** How far another process's download of {@code name} got, to append to a timeout's message; "" if unknown. */
  String progressNote(String name) {
    try {
      for (DownloadStatus d : downloads()) {
        if (d.name().equals(name)) {
          return String.format(
              Locale.ROOT,
              " (its download by pid %d is at %d of %d bytes)",
              d.writerPid(),
              d.bytesDone(),
              d.bytesTotal());
        }
      }
    } catch (IOException ignored) {
      // only decorates a message
    }
    return "";
  }
}
