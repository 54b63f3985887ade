/**
 * What the other modules share: one strict JSON reader and one writer, and one binding of the
 * Linux file calls (open, close, posix_fallocate, posix_fadvise, madvise, mincore). Nothing here
 * is public API: each package is exported only to the project's own modules.
 */
module dev.modelcache.common {
  exports dev.modelcache.common.json to
      dev.modelcache.core,
      dev.modelcache.loader,
      dev.modelcache.s3,
      dev.modelcache.cuda;
  exports dev.modelcache.common.nativeio to
      dev.modelcache.core,
      dev.modelcache.loader,
      dev.modelcache.cuda;
}
