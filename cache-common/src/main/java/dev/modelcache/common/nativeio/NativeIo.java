package dev.modelcache.common.nativeio;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The Linux file calls the cache and the loader make through {@code java.lang.foreign}:
 * {@code posix_fallocate}, {@code posix_fadvise}, {@code madvise} and {@code mincore} (with the
 * {@code open} and {@code close} they need). This is the one place that binds them.
 *
 * <p>Every call is optional: {@link #get()} is empty off Linux, when the JVM does not grant this
 * module native access, or when binding fails, and callers then do without (extend a file
 * sparsely, load without read-ahead hints). The first caller that finds it empty logs one hint,
 * once per JVM, with the exact {@code --enable-native-access} flag that enables the calls.
 *
 * <p>A failed call throws {@link NativeIoException} with the {@code errno} it set (captured with
 * {@link Linker.Option#captureCallState}) or returned; callers classify it with
 * {@link NativeIoException#is(Errno)}. Thread-safe: the bindings are immutable and each call uses
 * memory of its own.
 */
public final class NativeIo {
  private static final System.Logger LOG = System.getLogger(NativeIo.class.getPackageName());
  private static final AtomicBoolean HINT_LOGGED = new AtomicBoolean();
  private static final int O_RDONLY = 0;
  private static final int O_WRONLY = 1;
  private static final int O_CLOEXEC = 0x80000;
  private static final int SC_PAGESIZE = 30;
  /** mincore's vector is filled for at most this many pages a call, so its size stays bounded. */
  private static final long MINCORE_CHUNK_PAGES = 1 << 16;

  private static final AtomicBoolean BINDING_STARTED = new AtomicBoolean();

  /** Binds the calls when first used: the JVM runs this once, and other callers wait for it. */
  private static final class Bound {
    static final Optional<NativeIo> INSTANCE = bind();
  }

  private final MethodHandle open;
  private final MethodHandle close;
  private final MethodHandle fallocate;
  private final MethodHandle fadvise;
  private final MethodHandle madvise;
  private final MethodHandle mincore;
  private final StructLayout callState;
  private final VarHandle errno;
  private final long pageSizeBytes;

  @SuppressWarnings("restricted") // constructed only when native access is enabled for this module
  private NativeIo(Linker linker, SymbolLookup libc) throws Throwable {
    Linker.Option captureErrno = Linker.Option.captureCallState("errno");
    callState = Linker.Option.captureStateLayout();
    errno = callState.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    open = linker.downcallHandle(
        libc.findOrThrow("open"),
        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT),
        captureErrno,
        Linker.Option.firstVariadicArg(2));
    close = linker.downcallHandle(
        libc.findOrThrow("close"),
        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT),
        captureErrno);
    // posix_fallocate and posix_fadvise return the error number instead of setting errno.
    fallocate = linker.downcallHandle(
        libc.findOrThrow("posix_fallocate"),
        FunctionDescriptor.of(
            ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT,
            ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_LONG));
    fadvise = linker.downcallHandle(
        libc.findOrThrow("posix_fadvise"),
        FunctionDescriptor.of(
            ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT,
            ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_INT));
    madvise = linker.downcallHandle(
        libc.findOrThrow("madvise"),
        FunctionDescriptor.of(
            ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT),
        captureErrno);
    mincore = linker.downcallHandle(
        libc.findOrThrow("mincore"),
        FunctionDescriptor.of(
            ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS),
        captureErrno);
    MethodHandle sysconf = linker.downcallHandle(
        libc.findOrThrow("sysconf"),
        FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
    long page = (long) sysconf.invokeExact(SC_PAGESIZE);
    pageSizeBytes = page > 0 && Long.bitCount(page) == 1 ? page : 4096;
  }

  /**
   * The calls, if this JVM can make them. When it cannot, the first call logs (once) why, and the
   * flag that enables them.
   */
  public static Optional<NativeIo> get() {
    Optional<NativeIo> bound = Bound.INSTANCE;
    if (bound.isEmpty() && HINT_LOGGED.compareAndSet(false, true)) {
      LOG.log(System.Logger.Level.INFO, hint());
    }
    return bound;
  }

  /**
   * Starts binding the calls on a daemon thread, unless that was started before. Binding costs
   * tens of milliseconds (the JDK generates a stub for each call), which a caller that needs the
   * calls soon (a download, before it preallocates its files) can overlap with its own work; a
   * {@link #get()} meanwhile waits for that binding instead of starting another.
   */
  public static void bindInBackground() {
    if (BINDING_STARTED.compareAndSet(false, true)) {
      Thread.ofPlatform()
          .name("modelcache-nativeio-bind")
          .daemon()
          .start(() -> Objects.requireNonNull(Bound.INSTANCE));
    }
  }

  /** The flag that grants native access to this code, as it is deployed (module or class path). */
  public static String enableFlag() {
    Module m = NativeIo.class.getModule();
    return "--enable-native-access=" + (m.isNamed() ? m.getName() : "ALL-UNNAMED");
  }

  private static boolean linux() {
    return System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux");
  }

  private static String hint() {
    if (!linux()) {
      return "posix_fallocate, posix_fadvise, madvise and mincore are used on Linux only; the cache and the loader"
          + " work without them on " + System.getProperty("os.name", "this system");
    }
    return "native access is not enabled, so staging files are extended sparsely instead of reserved with"
        + " posix_fallocate, and loading runs without madvise, posix_fadvise and mincore hints; start the JVM with "
        + enableFlag() + " to enable them";
  }

  @SuppressWarnings("restricted") // reached only when native access is enabled for this module
  private static Optional<NativeIo> bind() {
    if (!linux() || !NativeIo.class.getModule().isNativeAccessEnabled()) {
      return Optional.empty();
    }
    try {
      Linker linker = Linker.nativeLinker();
      return Optional.of(new NativeIo(linker, linker.defaultLookup()));
    } catch (Throwable t) {
      LOG.log(
          System.Logger.Level.WARNING,
          "native file calls could not be bound; running without them",
          t);
      HINT_LOGGED.set(true); // this warning is the hint
      return Optional.empty();
    }
  }

  /** The size of a memory page, from {@code sysconf(_SC_PAGESIZE)}. */
  public long pageSizeBytes() {
    return pageSizeBytes;
  }

  /**
   * Reserves the blocks of {@code file} from {@code offsetBytes} for {@code lengthBytes}
   * ({@code posix_fallocate(3)}), extending the file if the range ends past it. After it
   * succeeds, writes inside the range cannot fail for lack of space.
   *
   * @throws NativeIoException if the file cannot be opened for writing or the call fails; a full
   *     file system is {@link Errno#ENOSPC} (or {@link Errno#EDQUOT}), a file system that cannot
   *     reserve is {@link Errno#EOPNOTSUPP} or {@link Errno#EINVAL}
   */
  public void fallocate(Path file, long offsetBytes, long lengthBytes) throws NativeIoException {
    if (offsetBytes < 0 || lengthBytes <= 0) {
      throw new IllegalArgumentException(
          "fallocate needs offsetBytes >= 0 and lengthBytes > 0, got " + offsetBytes + " and "
              + lengthBytes);
    }
    onFile(
        file,
        O_WRONLY | O_CLOEXEC,
        "posix_fallocate",
        lengthBytes + " bytes at offset " + offsetBytes + " of " + file,
        fd -> (int) fallocate.invokeExact(fd, offsetBytes, lengthBytes));
  }

  /**
   * Advises the kernel about the whole of {@code file} ({@code posix_fadvise(2)} with offset and
   * length 0), opening it read-only for the call.
   *
   * @throws NativeIoException if the file cannot be opened or the call fails
   */
  public void fadvise(Path file, FileAdvice advice) throws NativeIoException {
    onFile(file, O_RDONLY | O_CLOEXEC, "posix_fadvise(" + advice + ")", file.toString(), fd ->
        (int) fadvise.invokeExact(fd, 0L, 0L, advice.linuxValue()));
  }

  /**
   * Advises the kernel about a mapped range ({@code madvise(2)}); the range is widened to whole
   * pages, as the call requires. An empty segment is left alone.
   *
   * @throws NativeIoException if the call fails (for example {@link Errno#ENOMEM} when the range
   *     is not mapped)
   */
  public void madvise(MemorySegment mapped, MemoryAdvice advice) throws NativeIoException {
    if (mapped.byteSize() == 0) {
      return;
    }
    long start = mapped.address() & -pageSizeBytes;
    long length = mapped.address() + mapped.byteSize() - start;
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment state = arena.allocate(callState);
      int rc = (int)
          madvise.invokeExact(state, MemorySegment.ofAddress(start), length, advice.linuxValue());
      if (rc != 0) {
        throw new NativeIoException(
            "madvise(" + advice + ")",
            String.format(Locale.ROOT, "%d bytes at 0x%x", length, start),
            (int) errno.get(state, 0L));
      }
    } catch (NativeIoException | RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw unexpected(t);
    }
  }

  /**
   * How many bytes of a mapped range are resident in memory ({@code mincore(2)}), counted in
   * whole pages and capped at the range. The segment must start on a page boundary, as a file
   * mapping does.
   *
   * @throws NativeIoException if the call fails
   */
  public long residentBytes(MemorySegment mapped) throws NativeIoException {
    long size = mapped.byteSize();
    long chunkBytes = MINCORE_CHUNK_PAGES * pageSizeBytes;
    long resident = 0;
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment vector = arena.allocate(MINCORE_CHUNK_PAGES);
      MemorySegment state = arena.allocate(callState);
      for (long off = 0; off < size; off += chunkBytes) {
        long length = Math.min(chunkBytes, size - off);
        MemorySegment at = MemorySegment.ofAddress(mapped.address() + off);
        int rc = (int) mincore.invokeExact(state, at, length, vector);
        if (rc != 0) {
          throw new NativeIoException(
              "mincore", String.format(Locale.ROOT, "%d bytes at 0x%x", length, at.address()), (int)
                  errno.get(state, 0L));
        }
        long pages = (length + pageSizeBytes - 1) / pageSizeBytes;
        for (long i = 0; i < pages; i++) {
          if ((vector.get(ValueLayout.JAVA_BYTE, i) & 1) != 0) {
            resident += Math.min(pageSizeBytes, length - i * pageSizeBytes);
          }
        }
      }
      return resident;
    } catch (NativeIoException | RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw unexpected(t);
    }
  }

  /** A call on an open file descriptor that returns 0 or an error number. */
  @FunctionalInterface
  private interface FdCall {
    int apply(int fd) throws Throwable;
  }

  /** Opens {@code file}, makes {@code fdCall} on it and closes it; a nonzero result is the error. */
  private void onFile(Path file, int flags, String call, String target, FdCall fdCall)
      throws NativeIoException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment state = arena.allocate(callState);
      int fd = (int)
          open.invokeExact(state, arena.allocateFrom(file.toAbsolutePath().toString()), flags);
      if (fd < 0) {
        throw new NativeIoException("open", file.toString(), (int) errno.get(state, 0L));
      }
      int rc;
      try {
        rc = fdCall.apply(fd);
      } finally {
        // A close error after a read-only or reserve-only use loses nothing: no data was written.
        int ignored = (int) close.invokeExact(state, fd);
      }
      if (rc != 0) {
        throw new NativeIoException(call, target, rc);
      }
    } catch (NativeIoException | RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw unexpected(t);
    }
  }

  private static AssertionError unexpected(Throwable t) {
    return new AssertionError("a native call threw a checked exception", t);
  }
}
