package dev.modelcache.loader;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The invariants {@link TensorInfo} checks, its derived values, and {@link SafetensorsFile}'s smallest files. */
class TensorInfoTest {
  private static final Path F = Path.of("m.safetensors");

  @Test
  void derivedValues() {
    TensorInfo t = new TensorInfo("w", Dtype.F16, new long[] {2, 3}, F, 4, 16, 100);
    assertThat(t.rank()).isEqualTo(2);
    assertThat(t.elementCount()).isEqualTo(6);
    assertThat(t.byteSize()).isEqualTo(12);
    assertThat(t.toString()).isEqualTo("w F16[2, 3] [4, 16) in m.safetensors");
    TensorInfo scalar = new TensorInfo("s", Dtype.I64, new long[0], F, 0, 8, 0);
    assertThat(scalar.rank()).isZero();
    assertThat(scalar.elementCount()).isEqualTo(1);
    TensorInfo empty = new TensorInfo("e", Dtype.U8, new long[] {5, 0}, F, 7, 7, 7);
    assertThat(empty.elementCount()).isZero();
    assertThat(empty.byteSize()).isZero();
  }

  @Test
  void shapeIsCopiedInAndOut() {
    long[] shape = {2};
    TensorInfo t = new TensorInfo("w", Dtype.F32, shape, F, 0, 8, 8);
    shape[0] = 9;
    assertThat(t.shape()).containsExactly(2);
    t.shape()[0] = 9;
    assertThat(t.shape()).containsExactly(2);
  }

  @Test
  void rejectsBadOffsets() {
    assertThatThrownBy(() -> new TensorInfo("w", Dtype.U8, new long[] {1}, F, -1, 0, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("bad offsets for w: [-1, 0) at 0");
    assertThatThrownBy(() -> new TensorInfo("w", Dtype.U8, new long[] {0}, F, 5, 4, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("bad offsets for w: [5, 4) at 0");
    assertThatThrownBy(() -> new TensorInfo("w", Dtype.U8, new long[] {1}, F, 0, 1, -1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("bad offsets for w: [0, 1) at -1");
    assertThatThrownBy(() -> new TensorInfo("w", Dtype.U8, new long[] {2}, F, 0, 1, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("size of w does not match its shape");
    assertThatThrownBy(() -> new TensorInfo("w", Dtype.U8, new long[] {-1}, F, 0, 0, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("negative dimension -1");
  }

  @Test
  void acceptsOffsetsAtZero() {
    TensorInfo t = new TensorInfo("w", Dtype.U8, new long[] {1}, F, 0, 1, 0);
    assertThat(t.fileOffset()).isZero();
    assertThat(t.dataBegin()).isZero();
  }

  @Test
  void equalityCoversEveryComponent() {
    TensorInfo t = new TensorInfo("w", Dtype.U8, new long[] {2}, F, 2, 4, 10);
    TensorInfo same =
        new TensorInfo("w", Dtype.U8, new long[] {2}, Path.of("m.safetensors"), 2, 4, 10);
    assertThat(t).isEqualTo(same).hasSameHashCodeAs(same);
    assertThat(t).isNotEqualTo(null).isNotEqualTo("w");
    assertThat(t).isNotEqualTo(new TensorInfo("v", Dtype.U8, new long[] {2}, F, 2, 4, 10));
    assertThat(t).isNotEqualTo(new TensorInfo("w", Dtype.I8, new long[] {2}, F, 2, 4, 10));
    assertThat(t).isNotEqualTo(new TensorInfo("w", Dtype.U8, new long[] {1, 2}, F, 2, 4, 10));
    assertThat(t)
        .isNotEqualTo(new TensorInfo("w", Dtype.U8, new long[] {2}, Path.of("o"), 2, 4, 10));
    assertThat(t).isNotEqualTo(new TensorInfo("w", Dtype.U8, new long[] {2}, F, 3, 5, 10));
    assertThat(t).isNotEqualTo(new TensorInfo("w", Dtype.U8, new long[] {1}, F, 2, 3, 10));
    assertThat(t).isNotEqualTo(new TensorInfo("w", Dtype.U8, new long[] {2}, F, 2, 4, 11));
    assertThat(t.hashCode())
        .isNotEqualTo(new TensorInfo("w", Dtype.U8, new long[] {2}, F, 2, 4, 11).hashCode());
  }

  @Test
  void dtypeSizes() {
    assertThat(Dtype.F4.byteSize(new long[] {2, 3})).isEqualTo(3);
    assertThat(Dtype.F6_E3M2.byteSize(new long[] {4})).isEqualTo(3);
    assertThat(Dtype.U64.byteSize(new long[0])).isEqualTo(8);
    assertThat(Dtype.fromHeaderName("BF16")).contains(Dtype.BF16);
    assertThat(Dtype.fromHeaderName("bf16")).isEmpty();
    assertThatThrownBy(() -> Dtype.F6_E2M3.byteSize(new long[] {1}))
        .isInstanceOf(ArithmeticException.class)
        .hasMessage("1 elements of 6 bits are not whole bytes");
  }

  @Test
  void smallestFiles(@TempDir Path dir) throws Exception {
    Path seven = Files.write(dir.resolve("seven"), new byte[7]);
    assertThatThrownBy(() -> SafetensorsFile.open(seven))
        .isInstanceOfSatisfying(SafetensorsFormatException.class, e -> {
          assertThat(e.rule()).isEqualTo(SafetensorsFormatException.Rule.FILE_TOO_SHORT);
          assertThat(e.getMessage()).endsWith(": the file has 7 bytes");
        });
    Path eight = Files.write(dir.resolve("eight"), new byte[8]);
    assertThatThrownBy(() -> SafetensorsFile.open(eight))
        .isInstanceOfSatisfying(SafetensorsFormatException.class, e -> {
          assertThat(e.rule()).isEqualTo(SafetensorsFormatException.Rule.HEADER_NOT_OBJECT);
          assertThat(e.getMessage()).endsWith(": the header is empty");
        });
  }

  @Test
  void fileDescribesItself(@TempDir Path dir) throws Exception {
    byte[] header = "{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}"
        .getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    java.nio.ByteBuffer b =
        java.nio.ByteBuffer.allocate(8 + header.length + 2).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    b.putLong(header.length).put(header).put((byte) 1).put((byte) 2);
    Path file = Files.write(dir.resolve("one.safetensors"), b.array());
    SafetensorsFile f = SafetensorsFile.open(file);
    assertThat(f.toString())
        .isEqualTo("SafetensorsFile[" + file + ", 1 tensors, " + (10 + header.length) + " bytes]");
    assertThat(f.dataOffset()).isEqualTo(8 + header.length);
    assertThat(f.dataSizeBytes()).isEqualTo(2);
    assertThat(f.tensor("a").orElseThrow().fileOffset()).isEqualTo(8 + header.length);
  }
}
