package dev.modelcache.core;

import com.sun.nio.file.ExtendedOpenOption;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.AccessMode;
import java.nio.file.CopyOption;
import java.nio.file.DirectoryStream;
import java.nio.file.FileStore;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.ProviderMismatchException;
import java.nio.file.StandardOpenOption;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.FileAttributeView;
import java.nio.file.attribute.FileStoreAttributeView;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.nio.file.spi.FileSystemProvider;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * The default file system seen through a provider that injects the faults a real disk gives, so
 * that tests reach them without root, a tmpfs or a failing device: a chosen free space, a disk
 * that fills after a number of bytes ({@code No space left on device}, as the JDK reports ENOSPC),
 * I/O errors ({@code Input/output error}, EIO) on writes or reads of chosen files, O_DIRECT refused
 * ({@code Invalid argument}, EINVAL) from some open on, directories this user may not write
 * ({@link AccessDeniedException}, EACCES), file locks that fail or find every file locked, a file
 * store of another type, and files created with a narrow mode.
 *
 * <p>Paths of this file system wrap paths of the default one and print as they do; everything not
 * faulted is done by the default provider on the wrapped path, locks included, so two channels of
 * one file here lock as two channels of the real file do. Faults may be set and cleared while the
 * file system is in use. Not registered with {@link FileSystems}: a test gets its paths from
 * {@link #wrap(Path)}.
 */
final class FaultyFileSystem extends FileSystem {

  /** The JDK's text for ENOSPC, the disk being full. */
  static final String ENOSPC = "No space left on device";
  /** The JDK's text for EIO, the device failing a read or a write. */
  static final String EIO = "Input/output error";
  /** The JDK's text for EINVAL, which is how a file system refuses O_DIRECT. */
  static final String EINVAL = "Invalid argument";

  private static final long UNLIMITED = Long.MAX_VALUE;

  private final FileSystem real = FileSystems.getDefault();
  private final Provider provider = new Provider();

  private volatile long usableBytes = -1;
  private volatile long totalBytes = -1;
  private volatile Path disk;
  private volatile long diskBytes = -1;
  private final AtomicLong writeBudgetBytes = new AtomicLong(UNLIMITED);
  private volatile Predicate<Path> failWrites = p -> false;
  private volatile Predicate<Path> failReads = p -> false;
  private volatile long failReadsFromOffset;
  private final AtomicInteger directWriteOpensLeft = new AtomicInteger(Integer.MAX_VALUE);
  private volatile boolean refuseDirectReads;
  private volatile String storeType;
  private volatile Locks locks = Locks.WORK;
  private volatile Predicate<Path> failOpens = p -> false;
  private volatile java.util.function.Function<String, IOException> openError =
      AccessDeniedException::new;
  private volatile Predicate<Path> failLinks = p -> false;
  private volatile Predicate<Path> failAttributes = p -> false;
  private volatile Set<java.nio.file.attribute.PosixFilePermission> createdFileMode;
  private final List<Path> readOnly = new java.util.concurrent.CopyOnWriteArrayList<>();
  /** Bytes written through channels of this file system, faulted or not. */
  final AtomicLong bytesWritten = new AtomicLong();
  /** Channels opened for writing with {@link ExtendedOpenOption#DIRECT} (refused ones included). */
  final AtomicInteger directWriteOpens = new AtomicInteger();
  /** Channels opened for reading only with {@link ExtendedOpenOption#DIRECT} (refused ones included). */
  final AtomicInteger directReadOpens = new AtomicInteger();
  /** The file names of those channels, one per open. */
  final java.util.Queue<String> directReadNames =
      new java.util.concurrent.ConcurrentLinkedQueue<>();

  /** The path of this file system for {@code path} of the default one. */
  Path wrap(Path path) {
    if (path instanceof Faulty f) {
      return f;
    }
    if (path.getFileSystem() != real) {
      throw new ProviderMismatchException("not a path of the default file system: " + path);
    }
    return new Faulty(this, path);
  }

  /** The file store of every path reports {@code usableBytes} free of {@code totalBytes}. */
  FaultyFileSystem reportSpace(long usableBytes, long totalBytes) {
    this.usableBytes = usableBytes;
    this.totalBytes = totalBytes;
    return this;
  }

  /**
   * Everything under {@code dir} is on a disk of {@code capacityBytes}: its usage is the length of
   * every regular file there (as if each were preallocated), the store reports what is left, and
   * a write that would make a file longer than what is left writes what fits and then fails with
   * ENOSPC. Unlike a real disk's, this space is not shared with anything else on the machine.
   */
  FaultyFileSystem disk(Path dir, long capacityBytes) {
    this.disk = wrap(dir).toAbsolutePath().normalize();
    this.diskBytes = capacityBytes;
    return this;
  }

  /** Bytes used on the disk set by {@link #disk}: the length of every regular file under it. */
  long diskUsedBytes() throws IOException {
    Path d = disk;
    if (d == null) {
      throw new IllegalStateException("no disk was set");
    }
    try (var files = java.nio.file.Files.walk(unwrap(d))) {
      return files
          .filter(java.nio.file.Files::isRegularFile)
          .mapToLong(f -> f.toFile().length())
          .sum();
    }
  }

  /**
   * The disk fills after {@code bytes} more are written: a write that would pass the mark writes
   * what fits, as write(2) does, and the next one fails with ENOSPC; from then on the store
   * reports no usable space. Until then it reports what it did: another tenant filling the disk.
   */
  FaultyFileSystem fillAfter(long bytes) {
    writeBudgetBytes.set(bytes);
    return this;
  }

  /** Writes to files that {@code files} accepts fail with EIO, before a byte is written. */
  FaultyFileSystem failWrites(Predicate<Path> files) {
    this.failWrites = files;
    return this;
  }

  /**
   * Reads of files that {@code files} accepts fail with EIO, and so does mapping them: on a real
   * disk the mapping succeeds and the first access of an unreadable page raises SIGBUS, which the
   * JVM turns into an {@link InternalError} only in some code paths (a checksum intrinsic reading
   * the page crashes the JVM instead), so a test cannot be given that fault faithfully.
   */
  FaultyFileSystem failReads(Predicate<Path> files) {
    return failReads(files, 0);
  }

  /**
   * Like {@link #failReads(Predicate)} for the bytes from {@code offset} on, as a bad sector there
   * would: a read that reaches it returns the bytes before it, and the next read fails.
   */
  FaultyFileSystem failReads(Predicate<Path> files, long offset) {
    this.failReadsFromOffset = offset;
    this.failReads = files;
    return this;
  }

  /**
   * The first {@code opens} opens for writing with O_DIRECT succeed; every later one is refused with
   * EINVAL. Reads with O_DIRECT stay allowed.
   */
  FaultyFileSystem refuseDirectWritesAfter(int opens) {
    directWriteOpensLeft.set(opens);
    return this;
  }

  /** Every open for reading with O_DIRECT is refused with EINVAL; writes with O_DIRECT stay allowed. */
  FaultyFileSystem refuseDirectReads() {
    refuseDirectReads = true;
    return this;
  }

  /**
   * {@code dir} is another user's (mode 0755, its files 0644): this user may not create, rename or
   * remove anything directly in it, nor write its files or change its attributes; each attempt
   * fails with {@link AccessDeniedException}, and {@link java.nio.file.Files#isWritable} is false for
   * it. Its subdirectories keep their own permissions.
   */
  FaultyFileSystem denyWrites(Path dir) {
    readOnly.add(wrap(dir).toAbsolutePath().normalize());
    return this;
  }

  /** What file locks do here. */
  enum Locks {
    /** As on the real file system. */
    WORK,
    /** Every lock fails with ENOLCK ({@code No locks available}), as on a mount without a lock service. */
    FAIL,
    /** Every {@code tryLock} finds the file locked, as if another process held it. */
    BUSY
  }

  /** Locks behave as {@code locks} says. */
  FaultyFileSystem locks(Locks locks) {
    this.locks = locks;
    return this;
  }

  /** Every file store reports this type ({@code "nfs4"}, {@code "ext4"}) instead of its own. */
  FaultyFileSystem storeType(String type) {
    this.storeType = type;
    return this;
  }

  /** Opening files that {@code files} accepts fails with {@link AccessDeniedException}: another user's, mode 0600. */
  FaultyFileSystem denyOpens(Predicate<Path> files) {
    return failOpens(files, AccessDeniedException::new);
  }

  /**
   * Opening files that {@code files} accepts fails with what {@code error} makes of the file's
   * name: {@code NoSuchFileException::new} for a file another process removes just before the open.
   */
  FaultyFileSystem failOpens(
      Predicate<Path> files, java.util.function.Function<String, IOException> error) {
    this.openError = error;
    this.failOpens = files;
    return this;
  }

  /**
   * A hard link at a path that {@code links} accepts fails with {@code FileAlreadyExistsException}
   * although nothing is there: another process made that file and removed it again in between.
   */
  FaultyFileSystem failLinks(Predicate<Path> links) {
    this.failLinks = links;
    return this;
  }

  /** Reading the attributes of paths that {@code files} accepts (and their file store) fails with EIO. */
  FaultyFileSystem failAttributes(Predicate<Path> files) {
    this.failAttributes = files;
    return this;
  }

  /** New files get {@code mode} ({@code "rw-------"}), as under a umask of 077, whatever the JVM's umask is. */
  FaultyFileSystem createdFileMode(String mode) {
    this.createdFileMode = java.nio.file.attribute.PosixFilePermissions.fromString(mode);
    return this;
  }

  /** Clears every fault: the disk has room again, reads and writes work, directories are writable. */
  FaultyFileSystem heal() {
    usableBytes = -1;
    totalBytes = -1;
    writeBudgetBytes.set(UNLIMITED);
    failWrites = p -> false;
    failReads = p -> false;
    failReadsFromOffset = 0;
    directWriteOpensLeft.set(Integer.MAX_VALUE);
    refuseDirectReads = false;
    readOnly.clear();
    storeType = null;
    locks = Locks.WORK;
    failOpens = p -> false;
    failLinks = p -> false;
    failAttributes = p -> false;
    createdFileMode = null;
    disk = null;
    diskBytes = -1;
    return this;
  }

  // --- faults ----------------------------------------------------------------------------------

  private void checkWritable(Path path) throws AccessDeniedException {
    Path p = path.toAbsolutePath().normalize();
    if (readOnly.contains(p) || p.getParent() != null && readOnly.contains(p.getParent())) {
      throw new AccessDeniedException(path.toString());
    }
  }

  /** How many of {@code wanted} bytes a write to {@code path} may write now; throws for none. */
  private int admitWrite(Path path, int wanted) throws IOException {
    if (failWrites.test(path)) {
      throw new IOException(EIO);
    }
    if (wanted == 0) {
      return 0;
    }
    while (true) {
      long left = writeBudgetBytes.get();
      if (left == UNLIMITED) {
        return wanted;
      }
      if (left == 0) {
        throw new IOException(ENOSPC);
      }
      int granted = (int) Math.min(left, wanted);
      if (writeBudgetBytes.compareAndSet(left, left - granted)) {
        return granted;
      }
    }
  }

  /** How many of {@code wanted} bytes at {@code position} fit on the disk set by {@link #disk}. */
  private int admitGrowth(Path path, FileChannel ch, long position, int wanted) throws IOException {
    Path d = disk;
    if (d == null || wanted == 0 || !path.toAbsolutePath().normalize().startsWith(d)) {
      return wanted;
    }
    long growth = position + wanted - ch.size();
    if (growth <= 0) {
      return wanted;
    }
    long left = diskBytes - diskUsedBytes();
    if (left <= 0) {
      throw new IOException(ENOSPC);
    }
    return (int) Math.min(wanted, wanted - growth + left);
  }

  private void admitAttributes(Path path) throws IOException {
    if (failAttributes.test(path)) {
      throw new java.nio.file.FileSystemException(path.toString(), null, EIO);
    }
  }

  private FileLock admitLock(java.util.concurrent.Callable<FileLock> lock, boolean trying)
      throws IOException {
    switch (locks) {
      case FAIL -> throw new IOException("No locks available");
      case BUSY -> {
        if (trying) {
          return null;
        }
        throw new IOException("the faulty file system cannot wait for a lock it reports busy");
      }
      default -> {
        try {
          return lock.call();
        } catch (IOException | RuntimeException e) {
          throw e;
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }
    }
  }

  private void admitRead(Path path) throws IOException {
    admitRead(path, failReadsFromOffset, 1);
  }

  /** How many of {@code wanted} bytes at {@code position} of {@code path} may be read; throws for none. */
  private int admitRead(Path path, long position, int wanted) throws IOException {
    if (!failReads.test(path)) {
      return wanted;
    }
    long good = failReadsFromOffset - position;
    if (good <= 0) {
      throw new IOException(EIO);
    }
    return (int) Math.min(wanted, good);
  }

  private static boolean writes(Set<? extends OpenOption> options) {
    return options.contains(StandardOpenOption.WRITE)
        || options.contains(StandardOpenOption.APPEND)
        || options.contains(StandardOpenOption.CREATE)
        || options.contains(StandardOpenOption.CREATE_NEW)
        || options.contains(StandardOpenOption.TRUNCATE_EXISTING)
        || options.contains(StandardOpenOption.DELETE_ON_CLOSE);
  }

  private static Path unwrap(Path path) {
    if (path instanceof Faulty f) {
      return f.real;
    }
    throw new ProviderMismatchException("not a path of the faulty file system: " + path);
  }

  // --- FileSystem ------------------------------------------------------------------------------

  @Override
  public FileSystemProvider provider() {
    return provider;
  }

  @Override
  public void close() {
    throw new UnsupportedOperationException("the faulty file system stays open");
  }

  @Override
  public boolean isOpen() {
    return true;
  }

  @Override
  public boolean isReadOnly() {
    return false;
  }

  @Override
  public String getSeparator() {
    return real.getSeparator();
  }

  @Override
  public Iterable<Path> getRootDirectories() {
    List<Path> roots = new ArrayList<>();
    real.getRootDirectories().forEach(r -> roots.add(wrap(r)));
    return roots;
  }

  @Override
  public Iterable<FileStore> getFileStores() {
    List<FileStore> stores = new ArrayList<>();
    real.getFileStores().forEach(s -> stores.add(new Store(s)));
    return stores;
  }

  @Override
  public Set<String> supportedFileAttributeViews() {
    return real.supportedFileAttributeViews();
  }

  @Override
  public Path getPath(String first, String... more) {
    return wrap(real.getPath(first, more));
  }

  @Override
  public PathMatcher getPathMatcher(String syntaxAndPattern) {
    PathMatcher m = real.getPathMatcher(syntaxAndPattern);
    return p -> m.matches(unwrap(p));
  }

  @Override
  public UserPrincipalLookupService getUserPrincipalLookupService() {
    return real.getUserPrincipalLookupService();
  }

  @Override
  public WatchService newWatchService() {
    throw new UnsupportedOperationException("no watch service on the faulty file system");
  }

  // --- paths -----------------------------------------------------------------------------------

  /** A path of the default file system, seen through the faulty one. */
  private static final class Faulty implements Path {
    private final FaultyFileSystem fs;
    private final Path real;

    Faulty(FaultyFileSystem fs, Path real) {
      this.fs = fs;
      this.real = real;
    }

    private Path wrapOrNull(Path p) {
      return p == null ? null : new Faulty(fs, p);
    }

    @Override
    public FileSystem getFileSystem() {
      return fs;
    }

    @Override
    public boolean isAbsolute() {
      return real.isAbsolute();
    }

    @Override
    public Path getRoot() {
      return wrapOrNull(real.getRoot());
    }

    @Override
    public Path getFileName() {
      return wrapOrNull(real.getFileName());
    }

    @Override
    public Path getParent() {
      return wrapOrNull(real.getParent());
    }

    @Override
    public int getNameCount() {
      return real.getNameCount();
    }

    @Override
    public Path getName(int index) {
      return new Faulty(fs, real.getName(index));
    }

    @Override
    public Path subpath(int beginIndex, int endIndex) {
      return new Faulty(fs, real.subpath(beginIndex, endIndex));
    }

    @Override
    public boolean startsWith(Path other) {
      return other instanceof Faulty f && real.startsWith(f.real);
    }

    @Override
    public boolean endsWith(Path other) {
      return other instanceof Faulty f && real.endsWith(f.real);
    }

    @Override
    public Path normalize() {
      return new Faulty(fs, real.normalize());
    }

    @Override
    public Path resolve(Path other) {
      return new Faulty(fs, real.resolve(unwrap(other)));
    }

    @Override
    public Path relativize(Path other) {
      return new Faulty(fs, real.relativize(unwrap(other)));
    }

    @Override
    public URI toUri() {
      try {
        return new URI(PROVIDER_SCHEME, null, real.toUri().getPath(), null);
      } catch (URISyntaxException e) {
        throw new IllegalStateException(e);
      }
    }

    @Override
    public Path toAbsolutePath() {
      return new Faulty(fs, real.toAbsolutePath());
    }

    @Override
    public Path toRealPath(LinkOption... options) throws IOException {
      return new Faulty(fs, real.toRealPath(options));
    }

    @Override
    public WatchKey register(
        WatchService watcher, WatchEvent.Kind<?>[] events, WatchEvent.Modifier... modifiers) {
      throw new UnsupportedOperationException("no watch service on the faulty file system");
    }

    @Override
    public int compareTo(Path other) {
      return real.compareTo(unwrap(other));
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Faulty f && f.fs == fs && f.real.equals(real);
    }

    @Override
    public int hashCode() {
      return real.hashCode();
    }

    @Override
    public String toString() {
      return real.toString();
    }
  }

  private static final String PROVIDER_SCHEME = "faulty";

  // --- provider --------------------------------------------------------------------------------

  private final class Provider extends FileSystemProvider {
    private final FileSystemProvider realProvider = real.provider();

    @Override
    public String getScheme() {
      return PROVIDER_SCHEME;
    }

    @Override
    public FileSystem newFileSystem(URI uri, Map<String, ?> env) {
      throw new UnsupportedOperationException("make a FaultyFileSystem with its constructor");
    }

    @Override
    public FileSystem getFileSystem(URI uri) {
      return FaultyFileSystem.this;
    }

    @Override
    public Path getPath(URI uri) {
      return FaultyFileSystem.this.getPath(uri.getPath());
    }

    @Override
    public SeekableByteChannel newByteChannel(
        Path path, Set<? extends OpenOption> options, FileAttribute<?>... attrs)
        throws IOException {
      return newFileChannel(path, options, attrs);
    }

    @Override
    public FileChannel newFileChannel(
        Path path, Set<? extends OpenOption> options, FileAttribute<?>... attrs)
        throws IOException {
      if (failOpens.test(path)) {
        throw openError.apply(path.toString());
      }
      boolean writing = writes(options);
      if (writing) {
        checkWritable(path);
      }
      if (options.contains(ExtendedOpenOption.DIRECT)) {
        (writing ? directWriteOpens : directReadOpens).incrementAndGet();
        if (!writing) {
          directReadNames.add(path.getFileName().toString());
        }
        if (writing
            ? directWriteOpensLeft.getAndUpdate(n -> n == Integer.MAX_VALUE || n == 0 ? n : n - 1)
                == 0
            : refuseDirectReads) {
          throw new java.nio.file.FileSystemException(path.toString(), null, EINVAL);
        }
      }
      if (options.contains(StandardOpenOption.TRUNCATE_EXISTING) && writing) {
        admitWrite(path, 0);
      }
      var mode = createdFileMode;
      boolean creates = mode != null
          && (options.contains(StandardOpenOption.CREATE_NEW)
              || options.contains(StandardOpenOption.CREATE) && !realProvider.exists(unwrap(path)));
      FileChannel ch = realProvider.newFileChannel(unwrap(path), options, attrs);
      if (creates) {
        java.nio.file.Files.setPosixFilePermissions(unwrap(path), mode);
      }
      return new Channel(path, ch);
    }

    @Override
    public DirectoryStream<Path> newDirectoryStream(
        Path dir, DirectoryStream.Filter<? super Path> filter) throws IOException {
      DirectoryStream<Path> stream =
          realProvider.newDirectoryStream(unwrap(dir), p -> filter.accept(wrap(p)));
      return new DirectoryStream<>() {
        @Override
        public Iterator<Path> iterator() {
          Iterator<Path> it = stream.iterator();
          return new Iterator<>() {
            @Override
            public boolean hasNext() {
              return it.hasNext();
            }

            @Override
            public Path next() {
              return wrap(it.next());
            }
          };
        }

        @Override
        public void close() throws IOException {
          stream.close();
        }
      };
    }

    @Override
    public void createDirectory(Path dir, FileAttribute<?>... attrs) throws IOException {
      if (realProvider.exists(unwrap(dir))) {
        throw new java.nio.file.FileAlreadyExistsException(
            dir.toString()); // mkdir(2) finds it first
      }
      checkWritable(dir);
      realProvider.createDirectory(unwrap(dir), attrs);
    }

    @Override
    public void createSymbolicLink(Path link, Path target, FileAttribute<?>... attrs)
        throws IOException {
      checkWritable(link);
      realProvider.createSymbolicLink(unwrap(link), unwrap(target), attrs);
    }

    @Override
    public void createLink(Path link, Path existing) throws IOException {
      checkWritable(link);
      if (failLinks.test(link)) {
        throw new java.nio.file.FileAlreadyExistsException(link.toString());
      }
      realProvider.createLink(unwrap(link), unwrap(existing));
    }

    @Override
    public Path readSymbolicLink(Path link) throws IOException {
      return wrap(realProvider.readSymbolicLink(unwrap(link)));
    }

    @Override
    public void delete(Path path) throws IOException {
      if (!realProvider.exists(unwrap(path), LinkOption.NOFOLLOW_LINKS)) {
        throw new java.nio.file.NoSuchFileException(path.toString()); // unlink(2) looks it up first
      }
      checkWritable(path);
      realProvider.delete(unwrap(path));
    }

    @Override
    public void copy(Path source, Path target, CopyOption... options) throws IOException {
      checkWritable(target);
      admitRead(source);
      admitWrite(target, (int) Math.min(
          Integer.MAX_VALUE,
          realProvider.readAttributes(unwrap(source), BasicFileAttributes.class).size()));
      realProvider.copy(unwrap(source), unwrap(target), options);
    }

    @Override
    public void move(Path source, Path target, CopyOption... options) throws IOException {
      checkWritable(source);
      checkWritable(target);
      realProvider.move(unwrap(source), unwrap(target), options);
    }

    @Override
    public boolean isSameFile(Path path, Path path2) throws IOException {
      return realProvider.isSameFile(unwrap(path), unwrap(path2));
    }

    @Override
    public boolean isHidden(Path path) throws IOException {
      return realProvider.isHidden(unwrap(path));
    }

    @Override
    public FileStore getFileStore(Path path) throws IOException {
      admitAttributes(path);
      return new Store(realProvider.getFileStore(unwrap(path)));
    }

    @Override
    public void checkAccess(Path path, AccessMode... modes) throws IOException {
      realProvider.checkAccess(unwrap(path), modes);
      for (AccessMode m : modes) {
        if (m == AccessMode.WRITE) {
          checkWritable(path);
        }
      }
    }

    @Override
    public <V extends FileAttributeView> V getFileAttributeView(
        Path path, Class<V> type, LinkOption... options) {
      return realProvider.getFileAttributeView(unwrap(path), type, options);
    }

    @Override
    public <A extends BasicFileAttributes> A readAttributes(
        Path path, Class<A> type, LinkOption... options) throws IOException {
      admitAttributes(path);
      return realProvider.readAttributes(unwrap(path), type, options);
    }

    @Override
    public Map<String, Object> readAttributes(Path path, String attributes, LinkOption... options)
        throws IOException {
      admitAttributes(path);
      return realProvider.readAttributes(unwrap(path), attributes, options);
    }

    @Override
    public void setAttribute(Path path, String attribute, Object value, LinkOption... options)
        throws IOException {
      checkWritable(path);
      realProvider.setAttribute(unwrap(path), attribute, value, options);
    }
  }

  // --- file stores -----------------------------------------------------------------------------

  /** The real store, reporting the space this file system was told to report. */
  private final class Store extends FileStore {
    private final FileStore store;

    Store(FileStore store) {
      this.store = store;
    }

    @Override
    public String name() {
      return store.name();
    }

    @Override
    public String type() {
      String t = storeType;
      return t != null ? t : store.type();
    }

    @Override
    public boolean isReadOnly() {
      return store.isReadOnly();
    }

    @Override
    public long getTotalSpace() throws IOException {
      if (diskBytes >= 0) {
        return diskBytes;
      }
      long t = totalBytes;
      return t >= 0 ? t : store.getTotalSpace();
    }

    @Override
    public long getUsableSpace() throws IOException {
      if (writeBudgetBytes.get() == 0) {
        return 0; // filled
      }
      if (diskBytes >= 0) {
        return Math.max(0, diskBytes - diskUsedBytes());
      }
      long u = usableBytes;
      return u >= 0 ? u : store.getUsableSpace();
    }

    @Override
    public long getUnallocatedSpace() throws IOException {
      return getUsableSpace();
    }

    @Override
    public long getBlockSize() throws IOException {
      return store.getBlockSize();
    }

    @Override
    public boolean supportsFileAttributeView(Class<? extends FileAttributeView> type) {
      return store.supportsFileAttributeView(type);
    }

    @Override
    public boolean supportsFileAttributeView(String name) {
      return store.supportsFileAttributeView(name);
    }

    @Override
    public <V extends FileStoreAttributeView> V getFileStoreAttributeView(Class<V> type) {
      return store.getFileStoreAttributeView(type);
    }

    @Override
    public Object getAttribute(String attribute) throws IOException {
      return store.getAttribute(attribute);
    }
  }

  // --- channels --------------------------------------------------------------------------------

  /** A channel of the real file whose reads and writes pass the faults first. */
  private final class Channel extends ForwardingFileChannel {
    private final Path path;

    Channel(Path path, FileChannel ch) {
      super(ch);
      this.path = path;
    }

    /** Writes what the faults let through of {@code src}, at {@code position} or at the channel's. */
    private int faultedWrite(ByteBuffer src, long position) throws IOException {
      int granted = admitGrowth(
          path,
          delegate,
          position < 0 ? delegate.position() : position,
          admitWrite(path, src.remaining()));
      int limit = src.limit();
      src.limit(src.position() + granted);
      try {
        int n = position < 0 ? delegate.write(src) : delegate.write(src, position);
        bytesWritten.addAndGet(n);
        if (n < granted) {
          long unused = granted - n;
          writeBudgetBytes.getAndUpdate(left -> left == UNLIMITED ? left : left + unused);
        }
        return n;
      } finally {
        src.limit(limit);
      }
    }

    /** Reads what the faults let through into {@code dst}, at {@code position} or at the channel's. */
    private int faultedRead(ByteBuffer dst, long position) throws IOException {
      int granted = admitRead(path, position < 0 ? delegate.position() : position, dst.remaining());
      int limit = dst.limit();
      dst.limit(dst.position() + granted);
      try {
        return position < 0 ? delegate.read(dst) : delegate.read(dst, position);
      } finally {
        dst.limit(limit);
      }
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
      return faultedRead(dst, -1);
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
      for (int i = offset; i < offset + length; i++) {
        if (dsts[i].hasRemaining()) {
          return faultedRead(dsts[i], -1);
        }
      }
      return 0;
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
      if (position < 0) {
        throw new IllegalArgumentException("negative position " + position);
      }
      return faultedRead(dst, position);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      return faultedWrite(src, -1);
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
      long n = 0;
      for (int i = offset; i < offset + length; i++) {
        while (srcs[i].hasRemaining()) {
          n += faultedWrite(srcs[i], -1);
        }
      }
      return n;
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
      if (position < 0) {
        throw new IllegalArgumentException("negative position " + position);
      }
      return faultedWrite(src, position);
    }

    @Override
    public FileChannel truncate(long size) throws IOException {
      admitWrite(path, 0);
      delegate.truncate(size);
      return this;
    }

    @Override
    public void force(boolean metaData) throws IOException {
      if (failWrites.test(path)) {
        throw new IOException(EIO);
      }
      delegate.force(metaData);
    }

    @Override
    public long transferTo(long position, long count, WritableByteChannel target)
        throws IOException {
      ByteBuffer buf = ByteBuffer.allocate((int) Math.min(count, 1 << 16));
      long done = 0;
      while (done < count) {
        buf.clear().limit((int) Math.min(buf.capacity(), count - done));
        int n = read(buf, position + done);
        if (n <= 0) {
          break;
        }
        buf.flip();
        while (buf.hasRemaining()) {
          target.write(buf);
        }
        done += n;
      }
      return done;
    }

    @Override
    public long transferFrom(ReadableByteChannel src, long position, long count)
        throws IOException {
      ByteBuffer buf = ByteBuffer.allocate((int) Math.min(count, 1 << 16));
      long done = 0;
      while (done < count) {
        buf.clear().limit((int) Math.min(buf.capacity(), count - done));
        int n = src.read(buf);
        if (n <= 0) {
          break;
        }
        buf.flip();
        while (buf.hasRemaining()) {
          done += faultedWrite(buf, position + done);
        }
      }
      return done;
    }

    @Override
    public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
      if (admitRead(path, position, (int) Math.min(size, Integer.MAX_VALUE)) < size) {
        throw new IOException(EIO);
      }
      return delegate.map(mode, position, size);
    }

    @Override
    public MemorySegment map(MapMode mode, long offset, long size, Arena arena) throws IOException {
      if (admitRead(path, offset, (int) Math.min(size, Integer.MAX_VALUE)) < size) {
        throw new IOException(EIO);
      }
      return delegate.map(mode, offset, size, arena);
    }

    @Override
    public FileLock lock(long position, long size, boolean shared) throws IOException {
      return admitLock(() -> delegate.lock(position, size, shared), false);
    }

    @Override
    public FileLock tryLock(long position, long size, boolean shared) throws IOException {
      return admitLock(() -> delegate.tryLock(position, size, shared), true);
    }
  }
}
