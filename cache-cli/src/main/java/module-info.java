/** The {@code modelcache} command. */
module dev.modelcache.cli {
  requires dev.modelcache.core;
  requires dev.modelcache.s3;
  requires dev.modelcache.loader;
}
