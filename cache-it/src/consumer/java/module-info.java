/**
 * A program that uses modelcache the way an application on the module path does: it names the
 * library modules it needs and nothing else, and runs with no extra JVM flags.
 */
module consumer {
  requires dev.modelcache.core;
  requires dev.modelcache.s3;
  requires dev.modelcache.loader;
}
