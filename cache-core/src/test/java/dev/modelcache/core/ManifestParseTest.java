package dev.modelcache.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.modelcache.core.spi.SourceChecksum;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each rule {@link Manifest#parse} applies to untrusted manifest text, with the exact reason it reports. */
class ManifestParseTest {
  private static final Path FILE = Path.of("/c/entries/x/manifest.json");

  private static String doc(String files) {
    return "{\"format\": 1, \"source\": \"s3://b/m/\", \"revision\": null, \"blockSizeBytes\": 4,"
        + " \"createdAt\": \"2026-01-02T03:04:05Z\", \"files\": [" + files + "]}";
  }

  private static String file(String extra) {
    return "{\"path\": \"a.bin\", \"key\": \"m/a.bin\", \"sizeBytes\": 9, \"etag\": null, \"versionId\": null,"
        + " \"checksum\": null, \"blockCrc32c\": \"" + extra + "\"}";
  }

  private static void corrupt(String text, String reason) {
    assertThatThrownBy(() -> Manifest.parse(FILE, text))
        .as(text)
        .isInstanceOfSatisfying(ManifestCorruptException.class, e -> {
          assertThat(e.file()).isEqualTo(FILE);
          assertThat(e.getMessage()).isEqualTo("manifest " + FILE + " is corrupt: " + reason);
        });
  }

  @Test
  void readsEveryField() throws Exception {
    Manifest m = Manifest.parse(
        FILE,
        doc(file("000000010000000200000003") + ","
            + "{\"path\": \"d/b\", \"key\": \"m/d/b\", \"sizeBytes\": 0, \"etag\": \"e\", \"versionId\": \"v\","
            + " \"checksum\": {\"algorithm\": \"MD5-PARTS\", \"hex\": \"0123456789abcdef0123456789abcdef\", \"parts\": 2,"
            + " \"partSizeBytes\": 5}, \"blockCrc32c\": \"\"}"));
    assertThat(m.blockSizeBytes()).isEqualTo(4);
    assertThat(m.createdAt()).isEqualTo(Instant.parse("2026-01-02T03:04:05Z"));
    assertThat(m.source().revision()).isNull();
    assertThat(m.files()).hasSize(2);
    ManifestFile a = m.files().get(0);
    assertThat(a.path()).isEqualTo("a.bin");
    assertThat(a.key()).isEqualTo("m/a.bin");
    assertThat(a.sizeBytes()).isEqualTo(9);
    assertThat(a.blockCrc32c()).containsExactly(1, 2, 3);
    ManifestFile b = m.files().get(1);
    assertThat(b.etag()).isEqualTo("e");
    assertThat(b.versionId()).isEqualTo("v");
    assertThat(b.checksum())
        .isEqualTo(new SourceChecksum("MD5-PARTS", "0123456789abcdef0123456789abcdef", 2, 5));
    assertThat(m.sizeBytes()).isEqualTo(9);
  }

  @Test
  void blockChecksumsAreOptionalButNeverPartial() throws Exception {
    assertThat(Manifest.parse(FILE, doc(file(""))).files().getFirst().blockCount())
        .isZero();
    corrupt(doc(file("0000000100000002")), "file a.bin has 2 block checksums, expected 3");
    corrupt(
        doc(file("00000001000000020000000300000004")),
        "file a.bin has 4 block checksums, expected 3");
    corrupt(doc(file("0000000")), "blockCrc32c of a.bin is not a multiple of 8 hex digits");
    corrupt(doc(file("000000010")), "blockCrc32c of a.bin is not a multiple of 8 hex digits");
    String exactBlocks =
        doc(file("0000000100000002").replace("\"sizeBytes\": 9", "\"sizeBytes\": 8"));
    assertThat(Manifest.parse(FILE, exactBlocks).files().getFirst().blockCount())
        .isEqualTo(2);
    String empty = doc(file("00000001").replace("\"sizeBytes\": 9", "\"sizeBytes\": 0"));
    corrupt(empty, "file a.bin has 1 block checksums, expected 0");
  }

  @Test
  void documentRules() {
    corrupt("[]", "the document is not a JSON object");
    corrupt(doc("").replace("\"format\": 1", "\"format\": 0"), "unsupported format 0 (expected 1)");
    corrupt(
        doc("").replace("\"format\": 1", "\"format\": -1"),
        "field 'format' is missing or not a non-negative integer");
    corrupt(
        doc("").replace("\"format\": 1", "\"format\": 1.0"),
        "field 'format' is missing or not a non-negative integer");
    corrupt(
        doc("").replace("\"blockSizeBytes\": 4", "\"blockSizeBytes\": 0"),
        "blockSizeBytes must be positive: 0");
    corrupt(
        doc("").replace("\"source\": \"s3://b/m/\"", "\"source\": null"),
        "field 'source' is missing or not a string");
    corrupt(
        doc("").replace("\"revision\": null, ", ""), "field 'revision' is missing or not a string");
    corrupt(doc("").replace("\"files\": []", "\"files\": null"), "field 'files' is not an array");
    corrupt(doc("1"), "a file is not a JSON object");
  }

  @Test
  void fileRules() throws Exception {
    corrupt(
        doc(file("").replace("\"a.bin\"", "\"/etc/passwd\"")),
        "unsafe object key '/etc/passwd': it is an absolute path");
    corrupt(
        doc(file("").replace("\"sizeBytes\": 9", "\"sizeBytes\": -9")),
        "field 'sizeBytes' is missing or not a non-negative integer");
    corrupt(
        doc(file("").replace("\"key\": \"m/a.bin\"", "\"key\": null")),
        "field 'key' is missing or not a string");
    corrupt(
        doc(file("").replace("\"checksum\": null", "\"checksum\": \"md5\"")),
        "a checksum is not a JSON object");
    corrupt(
        doc(file("")
            .replace(
                "\"checksum\": null",
                "\"checksum\": {\"algorithm\": \"MD5-PARTS\", \"hex\": \"ab\", \"parts\": 2}")),
        "field 'partSizeBytes' is missing or not a non-negative integer");
    corrupt(
        doc(
            file("")
                .replace(
                    "\"checksum\": null",
                    "\"checksum\": {\"algorithm\": \"MD5-PARTS\", \"hex\": \"ab\", \"parts\": 4294967296, \"partSizeBytes\": 1}")),
        "field 'parts' is larger than 2147483647: 4294967296");
    corrupt(
        doc(
            file("")
                .replace(
                    "\"checksum\": null",
                    "\"checksum\": {\"algorithm\": \"MD5-PARTS\", \"hex\": \"ab\", \"parts\": 2147483648, \"partSizeBytes\": 1}")),
        "field 'parts' is larger than 2147483647: 2147483648");
    assertThat(
            Manifest.parse(
                FILE,
                doc(
                    file("")
                        .replace(
                            "\"checksum\": null",
                            "\"checksum\": {\"algorithm\": \"MD5-PARTS\", \"hex\": \"ab\", \"parts\": 2147483647, \"partSizeBytes\": 1}"))))
        .extracting(m -> m.files().getFirst().checksum().parts())
        .isEqualTo(Integer.MAX_VALUE);
  }

  @Test
  void singleChecksumIsWrittenWithoutParts() throws Exception {
    Manifest m = Manifest.parse(
        FILE,
        doc(file("")
            .replace(
                "\"checksum\": null",
                "\"checksum\": {\"algorithm\": \"SHA-256\", \"hex\": \"ab\"}")));
    assertThat(m.toJson())
        .contains("\"checksum\": {\"algorithm\": \"SHA-256\", \"hex\": \"ab\"}, \"integrity\"");
    assertThat(Manifest.parse(FILE, m.toJson())).isEqualTo(m);
  }

  @Test
  void readNamesNonUtf8(@TempDir Path dir) throws Exception {
    Path f = Files.write(dir.resolve("manifest.json"), new byte[] {'{', (byte) 0xff, '}'});
    assertThatThrownBy(() -> Manifest.read(f))
        .isInstanceOf(ManifestCorruptException.class)
        .hasMessage("manifest " + f + " is corrupt: not UTF-8 text");
    Path ok = Files.writeString(dir.resolve("ok.json"), doc(file("")), StandardCharsets.UTF_8);
    assertThat(Manifest.read(ok).files())
        .extracting(ManifestFile::path)
        .isEqualTo(List.of("a.bin"));
  }
}
