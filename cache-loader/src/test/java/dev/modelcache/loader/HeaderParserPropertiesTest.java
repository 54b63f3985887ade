package dev.modelcache.loader;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/** Whatever the bytes, opening a file succeeds or throws SafetensorsFormatException, nothing else. */
class HeaderParserPropertiesTest {
    private static Path dir;
    private static final byte[] VALID;

    static {
        String header = "{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
                + "\"b\":{\"dtype\":\"F4\",\"shape\":[4],\"data_offsets\":[16,18]},"
                + "\"c\":{\"dtype\":\"BF16\",\"shape\":[],\"data_offsets\":[18,20]}}";
        VALID = header.getBytes(StandardCharsets.UTF_8);
    }

    @BeforeContainer
    static void createDir() throws IOException {
        dir = Files.createTempDirectory("safetensors-props");
    }

    @AfterContainer
    static void deleteDir() throws IOException {
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) {
                Files.delete(p);
            }
        }
        Files.delete(dir);
    }

    private static void assertOnlyFormatException(byte[] header, long declaredLength, int dataBytes) {
        try {
            Path f = Corpus.rawWithLength(Files.createTempFile(dir, "p", ".safetensors"), declaredLength, header, dataBytes);
            try {
                SafetensorsFile file = SafetensorsFile.open(f);
                // Accepted files must be self-consistent.
                long sum = file.tensors().stream().mapToLong(TensorInfo::byteSize).sum();
                assertThat(sum).isEqualTo(file.dataSizeBytes());
            } catch (SafetensorsFormatException expected) {
                assertThat(expected.rule()).isNotNull();
                assertThat(expected.getMessage()).contains(f.toString());
            } finally {
                Files.delete(f);
            }
        } catch (IOException e) {
            if (e instanceof SafetensorsFormatException) {
                return;
            }
            throw new UncheckedIOException(e);
        }
    }

    @Property(tries = 300)
    void randomBytes(@ForAll("headers") byte[] header, @ForAll("sizes") int dataBytes) {
        assertOnlyFormatException(header, header.length, dataBytes);
    }

    @Property(tries = 300)
    void randomLengthPrefix(@ForAll long declared, @ForAll("sizes") int dataBytes) {
        assertOnlyFormatException(VALID, declared, dataBytes);
    }

    @Property(tries = 1000)
    void mutatedValidHeader(@ForAll("mutations") byte[] header) {
        assertOnlyFormatException(header, header.length, 20);
    }

    @Property(tries = 500)
    void randomJsonishHeaders(@ForAll("jsonish") String header, @ForAll("sizes") int dataBytes) {
        assertOnlyFormatException(header.getBytes(StandardCharsets.UTF_8), header.getBytes(StandardCharsets.UTF_8).length, dataBytes);
    }

    @Provide
    Arbitrary<byte[]> headers() {
        return Arbitraries.bytes().array(byte[].class).ofMaxSize(200);
    }

    @Provide
    Arbitrary<Integer> sizes() {
        return Arbitraries.integers().between(0, 40);
    }

    @Provide
    Arbitrary<byte[]> mutations() {
        Arbitrary<Integer> pos = Arbitraries.integers().between(0, VALID.length - 1);
        Arbitrary<Byte> value = Arbitraries.of((byte) '{', (byte) '}', (byte) '[', (byte) ']', (byte) ',', (byte) ':',
                (byte) '"', (byte) '-', (byte) '0', (byte) '9', (byte) ' ', (byte) 'e', (byte) '.', (byte) '\\',
                (byte) 0, (byte) 0xC3, (byte) 0xFF);
        Arbitrary<Integer> kind = Arbitraries.integers().between(0, 3);
        return Combinators.combine(pos.list().ofMinSize(1).ofMaxSize(4), value.list().ofSize(4), kind).as((ps, vs, k) -> {
            byte[] b = VALID.clone();
            for (int i = 0; i < ps.size(); i++) {
                int p = ps.get(i);
                switch (k) {
                    case 0 -> b[p] = vs.get(i);                                   // replace
                    case 1 -> b = java.util.Arrays.copyOf(b, Math.min(b.length, p + 1)); // truncate
                    case 2 -> {                                                   // insert
                        byte[] n = new byte[b.length + 1];
                        int at = Math.min(p, b.length);
                        System.arraycopy(b, 0, n, 0, at);
                        n[at] = vs.get(i);
                        System.arraycopy(b, at, n, at + 1, b.length - at);
                        b = n;
                    }
                    default -> {                                                  // swap a digit
                        if (Character.isDigit(b[Math.min(p, b.length - 1)])) {
                            b[Math.min(p, b.length - 1)] = (byte) ('0' + (vs.get(i) & 7));
                        }
                    }
                }
            }
            return b;
        });
    }

    @Provide
    Arbitrary<String> jsonish() {
        Arbitrary<String> names = Arbitraries.of("a", "b", "__metadata__", "", "a\\u0000", "\\ud800");
        Arbitrary<String> dtypes = Arbitraries.of(Dtype.values()).map(Dtype::name).injectDuplicates(0.1)
                .edgeCases(c -> c.add("f32"));
        Arbitrary<String> numbers = Arbitraries.of("0", "1", "2", "3", "4", "8", "16", "-1", "1.5", "1e2",
                "18446744073709551616", "9223372036854775807", "4294967296");
        Arbitrary<String> shape = numbers.list().ofMaxSize(4).map(l -> "[" + String.join(",", l) + "]");
        Arbitrary<String> offsets = numbers.list().ofMinSize(1).ofMaxSize(3).map(l -> "[" + String.join(",", l) + "]");
        Arbitrary<String> entry = Combinators.combine(names, dtypes, shape, offsets)
                .as((n, d, s, o) -> "\"" + n + "\":{\"dtype\":\"" + d + "\",\"shape\":" + s + ",\"data_offsets\":" + o + "}");
        Arbitrary<String> meta = Arbitraries.of("\"__metadata__\":{\"k\":\"v\"}", "\"__metadata__\":{\"k\":3}",
                "\"__metadata__\":[]", "\"__metadata__\":null");
        return Arbitraries.oneOf(entry, meta).list().ofMaxSize(4)
                .map((List<String> l) -> "{" + String.join(",", l) + "}");
    }
}
