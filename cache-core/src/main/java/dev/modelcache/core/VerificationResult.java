package dev.modelcache.core;

import java.util.List;

/**
 * The outcome of re-checking an entry's files against its manifest.
 *
 * @param source the model
 * @param bytesChecked bytes read back
 * @param mismatches every file that differs, empty when the entry is intact
 */
public record VerificationResult(ModelSource source, long bytesChecked, List<Mismatch> mismatches) {

  /**
   * One damaged file.
   *
   * @param path the file's path in the manifest
   * @param offsetBytes where the first bad block starts (for a wrong length, the actual length;
   *     for a whole-file checksum, {@code -1})
   * @param reason what differs
   */
  public record Mismatch(String path, long offsetBytes, String reason) {}

  public VerificationResult {
    mismatches = List.copyOf(mismatches);
  }

  /** Whether every file matched. */
  public boolean ok() {
    return mismatches.isEmpty();
  }
}
