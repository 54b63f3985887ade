/** Safetensors parsing, validation and fast loading into pluggable sinks. */
module dev.modelcache.loader {
  requires dev.modelcache.common;
  // Only ReadThrough uses it; loader-only users need not have it. Not transitive: a module that
  // requires this one and not the cache would then fail to resolve. A ReadThrough user requires
  // dev.modelcache.core itself, as it builds the ModelCache.
  requires static dev.modelcache.core;
  requires jdk.unsupported; // com.sun.nio.file.ExtendedOpenOption.DIRECT

  exports dev.modelcache.loader;
}
