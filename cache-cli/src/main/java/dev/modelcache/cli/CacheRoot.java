package dev.modelcache.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Where the cache lives when the command line does not say: {@code --root}, else
 * {@code MODELCACHE_ROOT}, else {@code /var/cache/modelcache} for root (a node's shared cache, the
 * usual hostPath) and {@code $XDG_CACHE_HOME/modelcache} or {@code ~/.cache/modelcache} for
 * everyone else.
 */
final class CacheRoot {

  static final String ENV = "MODELCACHE_ROOT";
  static final Path SYSTEM_ROOT = Path.of("/var/cache/modelcache");

  private CacheRoot() {}

  /**
   * Resolves the cache root.
   *
   * @param option the {@code --root} value, or null
   * @param env the environment
   * @param superuser whether the process runs as root
   * @param home the user's home directory
   */
  static Path resolve(Path option, Map<String, String> env, boolean superuser, Path home) {
    if (option != null) {
      return option.toAbsolutePath().normalize();
    }
    String fromEnv = env.get(ENV);
    if (fromEnv != null && !fromEnv.isBlank()) {
      return Path.of(fromEnv).toAbsolutePath().normalize();
    }
    if (superuser) {
      return SYSTEM_ROOT;
    }
    String xdg = env.get("XDG_CACHE_HOME");
    // The XDG spec says relative values are invalid and must be ignored.
    if (xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute()) {
      return Path.of(xdg, "modelcache");
    }
    return home.resolve(".cache").resolve("modelcache");
  }

  /** Resolves the root for this process. */
  static Path resolve(Path option, Map<String, String> env) {
    return resolve(option, env, isSuperuser(), Path.of(System.getProperty("user.home")));
  }

  /** Whether this process runs as root: the owner of /proc/self is the effective user. */
  static boolean isSuperuser() {
    try {
      return Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      return "root".equals(System.getProperty("user.name"));
    }
  }
}
