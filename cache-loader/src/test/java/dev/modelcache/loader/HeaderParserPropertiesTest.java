package dev.modelcache.loader;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Whatever the bytes, opening a file succeeds or throws SafetensorsFormatException, nothing else.
 *
 * <p>Property-style tests over generated headers: random bytes, random length prefixes, mutations
 * of a valid header, and random JSON-like headers built from the format's own vocabulary. Each
 * property runs from a fixed seed so a failure names the seed and the case that reproduce it.
 */
class HeaderParserPropertiesTest {
  private static final byte[] VALID = ("{\"__metadata__\":{\"format\":\"pt\"},"
          + "\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
          + "\"b\":{\"dtype\":\"F4\",\"shape\":[4],\"data_offsets\":[16,18]},"
          + "\"c\":{\"dtype\":\"BF16\",\"shape\":[],\"data_offsets\":[18,20]}}")
      .getBytes(StandardCharsets.UTF_8);

  private static final byte[] MUTATION_BYTES = {
    '{',
    '}',
    '[',
    ']',
    ',',
    ':',
    '"',
    '-',
    '0',
    '9',
    ' ',
    'e',
    '.',
    '\\',
    0,
    (byte) 0xC3,
    (byte) 0xFF
  };
  private static final String[] NAMES = {"a", "b", "__metadata__", "", "a\\u0000", "\\ud800"};
  private static final String[] NUMBERS = {
    "0",
    "1",
    "2",
    "3",
    "4",
    "8",
    "16",
    "-1",
    "1.5",
    "1e2",
    "18446744073709551616",
    "9223372036854775807",
    "4294967296"
  };
  private static final String[] METADATA = {
    "\"__metadata__\":{\"k\":\"v\"}",
    "\"__metadata__\":{\"k\":3}",
    "\"__metadata__\":[]",
    "\"__metadata__\":null"
  };

  @TempDir
  Path dir;

  /** One generated case: a header, the length its prefix declares, and how many data bytes follow. */
  private record Case(byte[] header, long declaredLength, int dataBytes) {
    @Override
    public String toString() {
      return "header=" + new String(header, StandardCharsets.ISO_8859_1) + " declared="
          + declaredLength + " data=" + dataBytes;
    }
  }

  private void forAll(long seed, int tries, Function<SplittableRandom, Case> generator)
      throws IOException {
    SplittableRandom random = new SplittableRandom(seed);
    for (int i = 0; i < tries; i++) {
      Case c = generator.apply(random);
      try {
        assertOnlyFormatException(c);
      } catch (AssertionError | RuntimeException e) {
        throw new AssertionError("seed " + seed + ", try " + i + ": " + c, e);
      }
    }
  }

  private void assertOnlyFormatException(Case c) throws IOException {
    Path f = Corpus.rawWithLength(
        Files.createTempFile(dir, "p", ".safetensors"),
        c.declaredLength(),
        c.header(),
        c.dataBytes());
    try {
      SafetensorsFile file = SafetensorsFile.open(f);
      // An accepted file must be self-consistent.
      long sum = file.tensors().stream().mapToLong(TensorInfo::byteSize).sum();
      assertThat(sum).isEqualTo(file.dataSizeBytes());
    } catch (SafetensorsFormatException expected) {
      assertThat(expected.rule()).isNotNull();
      assertThat(expected.getMessage()).contains(f.toString());
    } finally {
      Files.delete(f);
    }
  }

  @Test
  void randomBytes() throws IOException {
    forAll(0x5AFE_0001L, 300, r -> {
      byte[] header = new byte[r.nextInt(201)];
      r.nextBytes(header);
      return new Case(header, header.length, r.nextInt(41));
    });
  }

  @Test
  void randomLengthPrefix() throws IOException {
    forAll(0x5AFE_0002L, 300, r -> {
      long declared = switch (r.nextInt(4)) {
        case 0 -> r.nextLong();
        case 1 -> Long.MAX_VALUE - r.nextInt(16);
        case 2 -> VALID.length + r.nextInt(-8, 9);
        default -> r.nextLong(0, 200_000_000L);
      };
      return new Case(VALID, declared, r.nextInt(41));
    });
  }

  @Test
  void mutatedValidHeader() throws IOException {
    forAll(0x5AFE_0003L, 1000, r -> {
      byte[] header = mutate(r);
      return new Case(header, header.length, 20);
    });
  }

  @Test
  void randomJsonishHeaders() throws IOException {
    forAll(0x5AFE_0004L, 500, r -> {
      List<String> members = new ArrayList<>();
      int count = r.nextInt(5);
      for (int i = 0; i < count; i++) {
        members.add(r.nextInt(4) == 0 ? pick(r, METADATA) : entry(r));
      }
      byte[] header = ("{" + String.join(",", members) + "}").getBytes(StandardCharsets.UTF_8);
      return new Case(header, header.length, r.nextInt(41));
    });
  }

  /** Replaces, truncates, inserts or re-digits one to four positions of the valid header. */
  private static byte[] mutate(SplittableRandom r) {
    byte[] b = VALID.clone();
    int kind = r.nextInt(4);
    int positions = 1 + r.nextInt(4);
    for (int i = 0; i < positions; i++) {
      int p = r.nextInt(VALID.length);
      byte value = MUTATION_BYTES[r.nextInt(MUTATION_BYTES.length)];
      switch (kind) {
        case 0 -> b[Math.min(p, b.length - 1)] = value;
        case 1 -> b = Arrays.copyOf(b, Math.min(b.length, p + 1));
        case 2 -> {
          int at = Math.min(p, b.length);
          byte[] n = new byte[b.length + 1];
          System.arraycopy(b, 0, n, 0, at);
          n[at] = value;
          System.arraycopy(b, at, n, at + 1, b.length - at);
          b = n;
        }
        default -> {
          int at = Math.min(p, b.length - 1);
          if (Character.isDigit(b[at])) {
            b[at] = (byte) ('0' + (value & 7));
          }
        }
      }
    }
    return b;
  }

  private static String entry(SplittableRandom r) {
    String dtype =
        r.nextInt(10) == 0 ? "f32" : Dtype.values()[r.nextInt(Dtype.values().length)].name();
    return "\"" + pick(r, NAMES) + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + numbers(r, 0, 4)
        + ",\"data_offsets\":" + numbers(r, 1, 3) + "}";
  }

  private static String numbers(SplittableRandom r, int min, int max) {
    List<String> values = new ArrayList<>();
    int n = r.nextInt(min, max + 1);
    for (int i = 0; i < n; i++) {
      values.add(pick(r, NUMBERS));
    }
    return "[" + String.join(",", values) + "]";
  }

  private static String pick(SplittableRandom r, String[] values) {
    return values[r.nextInt(values.length)];
  }
}
