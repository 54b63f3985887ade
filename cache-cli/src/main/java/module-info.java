/**
 * The {@code modelcache} command. An application, not a library: it exports nothing, and opens its
 * package to picocli, which reads the command classes' annotations and sets their fields.
 */
module dev.modelcache.cli {
  requires dev.modelcache.core;
  requires dev.modelcache.s3;
  requires dev.modelcache.loader;
  requires info.picocli;
  requires java.logging;

  opens dev.modelcache.cli to
      info.picocli;
}
