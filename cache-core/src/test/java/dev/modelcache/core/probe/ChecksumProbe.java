package dev.modelcache.core.probe;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.Locale;
import java.util.Random;
import java.util.zip.CRC32;
import java.util.zip.CRC32C;

/**
 * Measures what each per-block digest the cache could compute while writing costs, on one core,
 * over a direct buffer the size of a default part. Not a test: run it by hand (see the README's
 * design notes for the command and the figures).
 */
public final class ChecksumProbe {

  private ChecksumProbe() {}

  public static void main(String[] args) throws Exception {
    int part = 8 << 20;
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 64;
    ByteBuffer buf = ByteBuffer.allocateDirect(part);
    byte[] random = new byte[part];
    new Random(1).nextBytes(random);
    buf.put(random).flip();
    String[] names = {"CRC32C", "CRC32", "MD5", "SHA-256"};
    for (int pass = 0; pass < 2; pass++) { // the first pass warms up the JIT
      double crc32c = 0;
      for (String name : names) {
        long start = System.nanoTime();
        long sink = 0;
        for (int i = 0; i < rounds; i++) {
          ByteBuffer b = buf.duplicate();
          switch (name) {
            case "CRC32C" -> {
              CRC32C c = new CRC32C();
              c.update(b);
              sink += c.getValue();
            }
            case "CRC32" -> {
              CRC32 c = new CRC32();
              c.update(b);
              sink += c.getValue();
            }
            default -> {
              MessageDigest d = MessageDigest.getInstance(name);
              d.update(b);
              sink += d.digest()[0];
            }
          }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        double mbps = (double) part * rounds / seconds / 1e6;
        if (name.equals("CRC32C")) {
          crc32c = mbps;
        }
        if (pass == 1) {
          System.out.printf(
              Locale.ROOT,
              "%-8s %9.0f MB/s  (CRC32C is %.1fx faster)  [%d]%n",
              name,
              mbps,
              crc32c / mbps,
              sink & 1);
        }
      }
    }
  }
}
