package dev.modelcache.core;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * A {@link DownloadListener} that reads a model while it downloads: it names the files it will
 * read and in which order, the download fetches them in that order, and it is told where each file
 * is staged and which of its ranges are on disk and checked, so that it can read them before the
 * entry is committed. Read-through loading in {@code cache-loader} is built on it.
 *
 * <p>Which download it steers: the one it is given to ({@link ModelCache#prefetch} or {@link
 * ModelCache#ensure}) when that call starts the download. A streaming listener that joins a
 * download already running in this cache, or whose call finds the entry cached or waits for
 * another process, gets the {@link DownloadListener} events as that interface says and never
 * {@link #staged}: it reads the committed entry instead.
 *
 * <p>What a streamed file changes in the download: its first block (which holds a safetensors
 * header) is fetched before the other blocks of any streamed file, then its blocks in order, file
 * after file in the order {@link #streamOrder} gave; files not streamed are fetched after them. A
 * streamed file whose bytes do not match the checksum its source vouches for is not fetched again
 * (its reader may hold the bad bytes already): the download fails with {@link IntegrityException}
 * at once, discards its staging directory and commits nothing.
 *
 * <p>Threads: {@link #streamOrder} and {@link #staged} are called once each on the download's
 * thread, in that order, before any block is fetched; {@link #blockVerified} on the cache's
 * transfer threads and the download's tail threads, concurrently. As for every listener, methods
 * must not block (a streaming listener should record what it is told and signal its reader), and
 * an exception thrown by one is logged and ignored.
 */
public interface StreamingListener extends DownloadListener {

  /**
   * The files to stream, in the order they will be read.
   *
   * @param paths every file of the listing, as manifest paths, sorted
   * @return some of {@code paths}, each at most once, in reading order; others are ignored
   */
  List<String> streamOrder(List<String> paths);

  /**
   * The streamed files are staged: each exists at its {@link StagedFileEvent#stagingFile} with its
   * full length, and no block has been fetched or re-checked yet. The staging files are removed or
   * renamed when the download ends; a listener that reads them after that opens them here, on this
   * thread (an open file outlives the rename).
   */
  void staged(StagedEvent event);

  /**
   * The range {@code [offsetBytes, offsetBytes + lengthBytes)} of a streamed file is written to its
   * staging file and read back with the CRC32C of the bytes received (with {@link
   * ModelCache.Builder#readBack} off, a block checked block by block is reported once written), or
   * was kept from an interrupted download after the same check. It is not yet checked against the source, whose
   * whole-file checksum covers the file only once all of it is read back. A range may be reported
   * more than once.
   */
  void blockVerified(BlockVerifiedEvent event);

  /** What {@link #staged} reports. Immutable. */
  final class StagedEvent {
    private final ModelSource source;
    private final long blockBytes;
    private final List<StagedFileEvent> files;

    StagedEvent(ModelSource source, long blockBytes, List<StagedFileEvent> files) {
      this.source = Objects.requireNonNull(source, "source");
      this.blockBytes = blockBytes;
      this.files = List.copyOf(files);
    }

    /**
     * The download's block size: every range {@link #blockVerified} reports starts at a multiple
     * of it and is that long, except a file's last, which may be shorter.
     */
    public long blockBytes() {
      return blockBytes;
    }

    /** The model being downloaded. */
    public ModelSource source() {
      return source;
    }

    /** The streamed files, in the order {@link #streamOrder} gave. */
    public List<StagedFileEvent> files() {
      return files;
    }

    @Override
    public String toString() {
      return "StagedEvent[" + source + ", " + files.size() + " files]";
    }
  }

  /** One streamed file of a {@link StagedEvent}. Immutable. */
  final class StagedFileEvent {
    private final String path;
    private final long sizeBytes;
    private final Path stagingFile;
    private final Path entryFile;

    StagedFileEvent(String path, long sizeBytes, Path stagingFile, Path entryFile) {
      this.path = Objects.requireNonNull(path, "path");
      this.sizeBytes = sizeBytes;
      this.stagingFile = Objects.requireNonNull(stagingFile, "stagingFile");
      this.entryFile = Objects.requireNonNull(entryFile, "entryFile");
    }

    /** The file's path in the manifest. */
    public String path() {
      return path;
    }

    /** The file's size in bytes, as listed. */
    public long sizeBytes() {
      return sizeBytes;
    }

    /** Where the file is staged while it downloads; gone once the download ends. */
    public Path stagingFile() {
      return stagingFile;
    }

    /** Where the file will be once the entry is committed. */
    public Path entryFile() {
      return entryFile;
    }

    @Override
    public String toString() {
      return "StagedFileEvent[" + path + ", " + sizeBytes + " bytes at " + stagingFile + "]";
    }
  }

  /** What {@link #blockVerified} reports. Immutable. */
  final class BlockVerifiedEvent {
    private final String path;
    private final long offsetBytes;
    private final long lengthBytes;

    BlockVerifiedEvent(String path, long offsetBytes, long lengthBytes) {
      this.path = Objects.requireNonNull(path, "path");
      this.offsetBytes = offsetBytes;
      this.lengthBytes = lengthBytes;
    }

    /** The file's path in the manifest. */
    public String path() {
      return path;
    }

    /** Where the range starts in the file. */
    public long offsetBytes() {
      return offsetBytes;
    }

    /** The range's length in bytes. */
    public long lengthBytes() {
      return lengthBytes;
    }

    @Override
    public String toString() {
      return "BlockVerifiedEvent[" + path + ", " + offsetBytes + "+" + lengthBytes + "]";
    }
  }
}
