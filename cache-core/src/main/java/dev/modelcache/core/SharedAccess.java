package dev.modelcache.core;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.UUID;

/**
 * The file modes that let processes of different users share one root: a serving pod running as
 * uid 1000 leases, loads and awaits entries a prefetching pod wrote as root.
 *
 * <ul>
 *   <li>Shared directories ({@code leases/}, each {@code leases/NAME/}, {@code locks/}) are
 *       {@code 1777}: every user may create files there, and, as in {@code /tmp}, only a file's
 *       owner (or root) may remove it.
 *   <li>Lock files ({@code locks/NAME.gate}, {@code locks/NAME.download}) are {@code 0666}: every
 *       user opens them for writing to lock them.
 *   <li>Holder files and the liveness record are {@code 0644}: every user may probe them.
 *   <li>Everything else keeps the process's umask (committed files are made read-only for all).
 * </ul>
 *
 * Modes are set explicitly, whatever the umask, by the process that creates a file or directory,
 * before its name appears, so no other user ever sees it with a narrower mode.
 */
final class SharedAccess {

  private static final System.Logger LOG = System.getLogger(SharedAccess.class.getName());
  private static final int SHARED_DIRECTORY = 01777;
  private static final int SHARED_FILE = 0666;
  private static final int READABLE_FILE = 0644;

  private SharedAccess() {}

  /** Creates {@code dir} (and its parents) if missing; a directory this process creates gets mode 1777. */
  static void sharedDirectory(Path dir) throws IOException {
    if (Files.isDirectory(dir)) {
      return;
    }
    Files.createDirectories(dir.getParent());
    Path tmp = dir.resolveSibling("." + dir.getFileName() + "." + UUID.randomUUID() + ".tmp");
    Files.createDirectory(tmp);
    try {
      setMode(tmp, SHARED_DIRECTORY);
      Files.move(tmp, dir); // fails if another process created it meanwhile: theirs is as good
    } catch (FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException e) {
      // created concurrently
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** Creates {@code file} empty with mode 0666 if it does not exist; an existing file is left alone. */
  static void sharedFile(Path file) throws IOException {
    if (Files.exists(file)) {
      return;
    }
    Path tmp = file.resolveSibling("." + file.getFileName() + "." + UUID.randomUUID() + ".tmp");
    Files.createFile(tmp);
    try {
      setMode(tmp, SHARED_FILE);
      Files.createLink(file, tmp); // link(2) never replaces a file another process made meanwhile
    } catch (FileAlreadyExistsException e) {
      // created concurrently
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** Gives a file this process owns mode 0644. */
  static void readableByAll(Path file) throws IOException {
    setMode(file, READABLE_FILE);
  }

  /** Sets {@code dir}'s mode to 1777 if this process may (it owns it), for roots made by older versions. */
  static void widenDirectory(Path dir) {
    try {
      int mode = (Integer) Files.getAttribute(dir, "unix:mode") & 07777;
      if (mode != SHARED_DIRECTORY) {
        setMode(dir, SHARED_DIRECTORY);
      }
    } catch (java.nio.file.FileSystemException e) {
      LOG.log(Level.DEBUG, () -> "cannot make " + dir + " shared: " + e);
    } catch (IOException | RuntimeException e) {
      LOG.log(Level.DEBUG, () -> "cannot read the mode of " + dir + ": " + e);
    }
  }

  /** Describes who may do what in {@code path}, for an error message: "drwxr-xr-x owned by 0:0". */
  static String describe(Path path) {
    try {
      int mode = (Integer) Files.getAttribute(path, "unix:mode");
      Object uid = Files.getAttribute(path, "unix:uid");
      Object gid = Files.getAttribute(path, "unix:gid");
      return String.format(Locale.ROOT, "mode %04o, owner uid %s gid %s", mode & 07777, uid, gid);
    } catch (IOException | RuntimeException e) {
      return "mode unknown";
    }
  }

  /** This process's user, for an error message: "uid 1000 gid 1000". */
  static String currentUser() {
    try {
      Path self = Path.of("/proc/self");
      return "uid " + Files.getAttribute(self, "unix:uid") + " gid "
          + Files.getAttribute(self, "unix:gid");
    } catch (IOException | RuntimeException e) {
      return "user " + System.getProperty("user.name");
    }
  }

  private static void setMode(Path path, int mode) throws IOException {
    try {
      Files.setAttribute(path, "unix:mode", mode);
    } catch (UnsupportedOperationException | IllegalArgumentException e) {
      // not a POSIX file system: its own rules apply
    }
  }
}
