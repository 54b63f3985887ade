package dev.modelcache.loader.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Optional Linux calls through {@code java.lang.foreign}: madvise, posix_fadvise, mincore.
 *
 * <p>They are used only when the JVM grants this module native access; otherwise every method
 * reports "unavailable" and the first caller logs, once, the exact flag that enables them. All
 * of them are advisory for loading, so the loader works without them.
 */
public final class NativeIo {
    private static final System.Logger LOG = System.getLogger("dev.modelcache.loader");
    private static final AtomicBoolean HINT_LOGGED = new AtomicBoolean();

    /** madvise advice values (Linux). */
    public static final int MADV_SEQUENTIAL = 2;
    /** madvise/fadvise "will need" advice (Linux). */
    public static final int MADV_WILLNEED = 3;
    /** posix_fadvise advice: drop cached pages. */
    public static final int POSIX_FADV_DONTNEED = 4;
    /** posix_fadvise advice: read ahead. */
    public static final int POSIX_FADV_WILLNEED = 3;
    private static final int O_RDONLY = 0;
    private static final int O_CLOEXEC = 0x80000;

    private static final Bindings BINDINGS = Bindings.load();

    private NativeIo() {
    }

    /** Whether the calls are available (Linux, and native access enabled for this module). */
    public static boolean available() {
        if (BINDINGS == null) {
            logHintOnce();
            return false;
        }
        return true;
    }

    /** The flag that grants native access to this code, as it is deployed. */
    public static String enableFlag() {
        Module m = NativeIo.class.getModule();
        return "--enable-native-access=" + (m.isNamed() ? m.getName() : "ALL-UNNAMED");
    }

    private static void logHintOnce() {
        if (HINT_LOGGED.compareAndSet(false, true)) {
            String os = System.getProperty("os.name", "");
            if (!os.toLowerCase(Locale.ROOT).contains("linux")) {
                LOG.log(System.Logger.Level.INFO, "page-cache hints (madvise, posix_fadvise, mincore) are Linux-only; "
                        + "loading works without them on " + os);
            } else {
                LOG.log(System.Logger.Level.INFO, "native access is not enabled, so loading runs without madvise, "
                        + "posix_fadvise and mincore hints; start the JVM with " + enableFlag() + " to enable them");
            }
        }
    }

    /**
     * Advises the kernel about a mapped range (page-aligned internally).
     *
     * @return 0 on success, an errno value on failure, or -1 when unavailable
     */
    public static int madvise(MemorySegment mapped, int advice) {
        if (!available() || mapped.byteSize() == 0) {
            return -1;
        }
        long page = BINDINGS.pageSize;
        long addr = mapped.address();
        long start = addr & -page;
        long len = addr + mapped.byteSize() - start;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(BINDINGS.stateLayout);
            int rc = (int) BINDINGS.madvise.invokeExact(state, MemorySegment.ofAddress(start), len, advice);
            return rc == 0 ? 0 : (int) BINDINGS.errno.get(state, 0L);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * posix_fadvise on a whole file, opened read-only for the call.
     *
     * @return 0 on success, or an errno value (negative -1 when unavailable)
     */
    public static int fadvise(String path, int advice) {
        if (!available()) {
            return -1;
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(BINDINGS.stateLayout);
            int fd = (int) BINDINGS.open.invokeExact(state, a.allocateFrom(path), O_RDONLY | O_CLOEXEC);
            if (fd < 0) {
                return (int) BINDINGS.errno.get(state, 0L);
            }
            try {
                // posix_fadvise returns the error number itself rather than setting errno.
                return (int) BINDINGS.fadvise.invokeExact(fd, 0L, 0L, advice);
            } finally {
                int ignored = (int) BINDINGS.close.invokeExact(state, fd);
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Counts resident pages of a mapped range with mincore.
     *
     * @return the number of resident bytes (whole pages, capped at the range), or -1 when
     *     unavailable or the call failed
     */
    public static long residentBytes(MemorySegment mapped) {
        if (!available()) {
            return -1;
        }
        long page = BINDINGS.pageSize;
        long size = mapped.byteSize();
        long resident = 0;
        long chunkPages = 1 << 16; // bounds the vector: 64 KiB per call
        try (Arena a = Arena.ofConfined()) {
            MemorySegment vec = a.allocate(chunkPages);
            MemorySegment state = a.allocate(BINDINGS.stateLayout);
            for (long off = 0; off < size; off += chunkPages * page) {
                long len = Math.min(chunkPages * page, size - off);
                int rc = (int) BINDINGS.mincore.invokeExact(state, MemorySegment.ofAddress(mapped.address() + off), len, vec);
                if (rc != 0) {
                    return -1;
                }
                long pages = (len + page - 1) / page;
                for (long i = 0; i < pages; i++) {
                    if ((vec.get(ValueLayout.JAVA_BYTE, i) & 1) != 0) {
                        resident += Math.min(page, len - i * page);
                    }
                }
            }
            return resident;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The OS page size, or 4096 when native access is unavailable. */
    public static long pageSize() {
        return BINDINGS == null ? 4096 : BINDINGS.pageSize;
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException("unexpected checked exception from a native call", t);
    }

    private record Bindings(MethodHandle madvise, MethodHandle open, MethodHandle close, MethodHandle fadvise,
            MethodHandle mincore, StructLayout stateLayout, VarHandle errno, long pageSize) {

        @SuppressWarnings("restricted") // guarded: only called when native access is enabled
        static Bindings load() {
            if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
                return null;
            }
            if (!NativeIo.class.getModule().isNativeAccessEnabled()) {
                return null;
            }
            try {
                Linker linker = Linker.nativeLinker();
                SymbolLookup libc = linker.defaultLookup();
                Linker.Option errno = Linker.Option.captureCallState("errno");
                StructLayout layout = Linker.Option.captureStateLayout();
                VarHandle errnoHandle = layout.varHandle(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));
                MethodHandle madvise = linker.downcallHandle(libc.findOrThrow("madvise"),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                                ValueLayout.JAVA_INT), errno);
                MethodHandle open = linker.downcallHandle(libc.findOrThrow("open"),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT),
                        errno, Linker.Option.firstVariadicArg(2));
                MethodHandle close = linker.downcallHandle(libc.findOrThrow("close"),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), errno);
                MethodHandle fadvise = linker.downcallHandle(libc.findOrThrow("posix_fadvise"),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG,
                                ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
                MethodHandle mincore = linker.downcallHandle(libc.findOrThrow("mincore"),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                                ValueLayout.ADDRESS), errno);
                MethodHandle sysconf = linker.downcallHandle(libc.findOrThrow("sysconf"),
                        FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
                long pageSize = (long) sysconf.invokeExact(30); // _SC_PAGESIZE on Linux
                if (pageSize <= 0 || Long.bitCount(pageSize) != 1) {
                    pageSize = 4096;
                }
                return new Bindings(madvise, open, close, fadvise, mincore, layout, errnoHandle, pageSize);
            } catch (Throwable t) {
                LOG.log(System.Logger.Level.WARNING, "native page-cache calls could not be bound; running without them", t);
                return null;
            }
        }
    }
}
