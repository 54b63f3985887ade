package dev.modelcache.loader;

import dev.modelcache.loader.internal.NativeIo;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.OptionalLong;

/**
 * The operating system's page cache for model files: warm a file before it is needed, drop it
 * after, and see how much of it is resident.
 *
 * <p>{@link #warm} works everywhere. {@link #drop} and {@link #residentBytes} use Linux calls
 * ({@code posix_fadvise}, {@code mincore}) through {@code java.lang.foreign} and need native
 * access ({@code --enable-native-access=dev.modelcache.loader}, or {@code =ALL-UNNAMED} on the
 * class path); without it they report that they did nothing, and a hint with the flag is logged
 * once. All methods are thread-safe.
 */
public final class PageCache {
    private static final int WARM_BLOCK_BYTES = 8 << 20;

    private PageCache() {
    }

    /** Whether {@link #drop} and {@link #residentBytes} can work in this JVM. */
    public static boolean isControllable() {
        return NativeIo.available();
    }

    /**
     * Pulls a whole file into the page cache by reading it (after a will-need hint when native
     * access is enabled). Returns when every byte was read once; the kernel may still evict
     * pages later under memory pressure.
     *
     * @param file the file
     * @return the number of bytes read
     * @throws IOException if the file cannot be read
     */
    public static long warm(Path file) throws IOException {
        NativeIo.fadvise(file.toAbsolutePath().toString(), NativeIo.POSIX_FADV_WILLNEED);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
             Arena arena = Arena.ofConfined()) {
            ByteBuffer buf = arena.allocate(WARM_BLOCK_BYTES, 4096).asByteBuffer();
            long total = 0;
            while (true) {
                buf.clear();
                int r = ch.read(buf, total);
                if (r < 0) {
                    return total;
                }
                total += r;
            }
        }
    }

    /**
     * Drops a file's clean pages from the page cache ({@code posix_fadvise(fd, 0, 0,
     * POSIX_FADV_DONTNEED)}), after flushing its dirty pages so that they can be dropped too.
     *
     * @param file the file
     * @return {@code true} if the kernel was asked to drop the pages, {@code false} if native
     *     access is unavailable (nothing was done)
     * @throws IOException if the file cannot be opened or the call fails
     */
    public static boolean drop(Path file) throws IOException {
        if (!NativeIo.available()) {
            return false;
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ch.force(false);
        }
        int rc = NativeIo.fadvise(file.toAbsolutePath().toString(), NativeIo.POSIX_FADV_DONTNEED);
        if (rc != 0) {
            throw new IOException(String.format(Locale.ROOT, "%s: posix_fadvise(DONTNEED) failed with errno %d", file, rc));
        }
        return true;
    }

    /**
     * How many bytes of a file are in the page cache now ({@code mincore} over a read-only
     * mapping, counted in whole pages).
     *
     * @param file the file
     * @return the resident bytes, or empty if native access is unavailable
     * @throws IOException if the file cannot be mapped or the call fails
     */
    public static OptionalLong residentBytes(Path file) throws IOException {
        if (!NativeIo.available()) {
            return OptionalLong.empty();
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
             Arena arena = Arena.ofConfined()) {
            long size = ch.size();
            if (size == 0) {
                return OptionalLong.of(0);
            }
            MemorySegment map = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            long resident = NativeIo.residentBytes(map);
            if (resident < 0) {
                throw new IOException(file + ": mincore failed");
            }
            return OptionalLong.of(resident);
        }
    }
}
