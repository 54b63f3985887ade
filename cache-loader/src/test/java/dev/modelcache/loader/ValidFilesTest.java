package dev.modelcache.loader;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Valid files of every kind open, and the writer produces exactly what the parser accepts. */
class ValidFilesTest {
  @TempDir
  Path dir;

  @ParameterizedTest
  @EnumSource(Dtype.class)
  void everyDtypeRoundTrips(Dtype dtype) throws IOException {
    long[] shape = {2, 4}; // 8 elements: whole bytes for 4- and 6-bit types too
    int size = (int) (8L * dtype.bits() / 8);
    byte[] data = Corpus.bytes(size, dtype.ordinal());
    Path f = dir.resolve(dtype + ".safetensors");
    SafetensorsWriter.create().tensor("t", dtype, shape, data).write(f);
    SafetensorsFile file = SafetensorsFile.open(f);
    TensorInfo t = file.tensor("t").orElseThrow();
    assertThat(t.dtype()).isEqualTo(dtype);
    assertThat(t.shape()).containsExactly(2, 4);
    assertThat(t.byteSize()).isEqualTo(size);
    HeapTensorSink sink = new HeapTensorSink();
    Loader.builder().strategy(ReadStrategy.BUFFERED).build().load(f, sink);
    assertThat(sink.arrays().get("t")).isEqualTo(data);
  }

  @Test
  void subByteTypesNeedWholeBytes() {
    assertThat(Dtype.F4.byteSize(new long[] {2})).isEqualTo(1);
    assertThat(Dtype.F6_E3M2.byteSize(new long[] {4})).isEqualTo(3);
    assertThatThrownBy(() -> Dtype.F6_E3M2.byteSize(new long[] {3}))
        .isInstanceOf(ArithmeticException.class);
    assertThatThrownBy(
            () -> SafetensorsWriter.create().tensor("x", Dtype.F4, new long[] {1}, new byte[1]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'x'");
  }

  @Test
  void scalarsZeroDimensionsAndEmptyFilesAreValid() throws IOException {
    Path f = Corpus.raw(
        dir.resolve("z.safetensors"),
        "{\"s\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[0,8]},"
            + "\"z\":{\"dtype\":\"F32\",\"shape\":[5,0,99999999999],\"data_offsets\":[8,8]}}   ",
        8);
    SafetensorsFile file = SafetensorsFile.open(f);
    assertThat(file.tensor("s").orElseThrow().rank()).isZero();
    assertThat(file.tensor("s").orElseThrow().elementCount()).isEqualTo(1);
    assertThat(file.tensor("z").orElseThrow().byteSize()).isZero();
    assertThat(SafetensorsFile.open(Corpus.raw(dir.resolve("e.safetensors"), "{}", 0))
            .tensors())
        .isEmpty();
  }

  @Test
  void trailingSpacesArePaddingAndMetadataIsRead() throws IOException {
    Path f = Corpus.raw(
        dir.resolve("pad.safetensors"),
        "{\"__metadata__\":{\"format\":\"pt\",\"caf\\u00e9\":\"\\ud83d\\ude00\"},"
            + "\"a\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[0,3]}}" + " ".repeat(13),
        3);
    SafetensorsFile file = SafetensorsFile.open(f);
    assertThat(file.metadata()).containsExactly(Map.entry("format", "pt"), Map.entry("café", "😀"));
    assertThat(file.dataOffset()).isEqualTo(8 + file.headerSizeBytes());
    assertThat(file.tensor("a").orElseThrow().fileOffset()).isEqualTo(file.dataOffset());
  }

  @Test
  void writerAlignsTheDataSectionAndLeavesNoTemporaryFile() throws IOException {
    Path f = dir.resolve("w.safetensors");
    SafetensorsFile file = SafetensorsWriter.create()
        .metadata("k", "quote\" back\\slash \n")
        .tensor("weird \"name\"", Dtype.I16, new long[] {3}, new byte[6])
        .tensor("b", Dtype.U8, new long[] {5}, (off, chunk) -> chunk.fill((byte) 7))
        .write(f);
    assertThat(file.dataOffset() % 8).isZero();
    assertThat(file.metadata()).containsEntry("k", "quote\" back\\slash \n");
    assertThat(file.tensors()).extracting(TensorInfo::name).containsExactly("weird \"name\"", "b");
    try (var files = Files.list(dir)) {
      assertThat(files).containsExactly(f);
    }
  }

  @Test
  void writerRejectsWhatTheFormatForbids() {
    SafetensorsWriter w =
        SafetensorsWriter.create().tensor("a", Dtype.U8, new long[] {1}, new byte[1]);
    assertThatThrownBy(() -> w.tensor("a", Dtype.U8, new long[] {1}, new byte[1]))
        .hasMessageContaining("already");
    assertThatThrownBy(() -> w.tensor("__metadata__", Dtype.U8, new long[] {1}, new byte[1]))
        .hasMessageContaining("reserved");
    assertThatThrownBy(() -> w.tensor("c", Dtype.U8, new long[] {2}, new byte[1]))
        .hasMessageContaining("needs 2 bytes");
    assertThatThrownBy(() -> w.tensor("d", Dtype.U8, new long[] {-1}, new byte[1]))
        .hasMessageContaining("invalid shape");
    assertThatThrownBy(() -> w.zeros("e", Dtype.F64, new long[] {Long.MAX_VALUE, 2}))
        .hasMessageContaining("invalid shape");
  }

  @Test
  void writerFailureLeavesTargetUntouched() throws IOException {
    Path f = dir.resolve("keep.safetensors");
    Files.writeString(f, "previous");
    assertThatThrownBy(() -> SafetensorsWriter.create()
            .tensor("a", Dtype.U8, new long[] {4}, (off, chunk) -> {
              throw new IOException("source failed");
            })
            .write(f))
        .hasMessageContaining("source failed");
    assertThat(Files.readString(f)).isEqualTo("previous");
    try (var files = Files.list(dir)) {
      assertThat(files).containsExactly(f);
    }
  }
}
