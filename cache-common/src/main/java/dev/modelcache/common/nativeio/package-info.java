/**
 * One binding of the Linux file calls over {@code java.lang.foreign}: {@link
 * dev.modelcache.common.nativeio.NativeIo} ({@code posix_fallocate}, {@code posix_fadvise},
 * {@code madvise}, {@code mincore}), advice as enums ({@link
 * dev.modelcache.common.nativeio.FileAdvice}, {@link dev.modelcache.common.nativeio.MemoryAdvice})
 * and failures as {@link dev.modelcache.common.nativeio.NativeIoException} classified by {@link
 * dev.modelcache.common.nativeio.Errno}, never by message text.
 */
package dev.modelcache.common.nativeio;
