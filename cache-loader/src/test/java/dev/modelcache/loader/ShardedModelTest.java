package dev.modelcache.loader;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.modelcache.loader.SafetensorsFormatException.Rule;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Directories of shards, with and without an index, and every index rule. */
class ShardedModelTest {
  @TempDir
  Path dir;

  @BeforeEach
  void shards() throws IOException {
    SafetensorsWriter.create()
        .tensor("a", Dtype.F32, new long[] {2}, Corpus.bytes(8, 1))
        .tensor("b", Dtype.U8, new long[] {3}, Corpus.bytes(3, 2))
        .write(dir.resolve("model-00001-of-00002.safetensors"));
    SafetensorsWriter.create()
        .tensor("c", Dtype.I64, new long[] {1}, Corpus.bytes(8, 3))
        .write(dir.resolve("model-00002-of-00002.safetensors"));
  }

  private void index(String json) throws IOException {
    Files.writeString(dir.resolve(SafetensorsModel.INDEX_FILE_NAME), json);
  }

  private static final String GOOD_MAP = "\"a\":\"model-00001-of-00002.safetensors\","
      + "\"b\":\"model-00001-of-00002.safetensors\",\"c\":\"model-00002-of-00002.safetensors\"";

  @Test
  void withIndex() throws IOException {
    // total_size is deliberately wrong: it is advisory.
    index("{\"metadata\":{\"total_size\":12345,\"extra\":[1,{\"x\":null}]},\"weight_map\":{"
        + GOOD_MAP + "}}");
    SafetensorsModel m = SafetensorsModel.open(dir);
    assertThat(m.files()).hasSize(2);
    assertThat(m.tensors().keySet()).containsExactly("a", "b", "c");
    assertThat(m.indexTotalSizeBytes()).hasValue(12345);
    assertThat(m.dataSizeBytes()).isEqualTo(19);
    HeapTensorSink sink = new HeapTensorSink();
    LoadResult r = Loader.builder().build().load(dir, sink);
    assertThat(r.fileCount()).isEqualTo(2);
    assertThat(sink.arrays().get("c")).isEqualTo(Corpus.bytes(8, 3));
  }

  @Test
  void withoutIndex() throws IOException {
    SafetensorsModel m = SafetensorsModel.open(dir);
    assertThat(m.tensors().keySet()).containsExactly("a", "b", "c");
    assertThat(m.indexTotalSizeBytes()).isEmpty();
  }

  @Test
  void duplicateAcrossShardsWithoutIndex() throws IOException {
    SafetensorsWriter.create()
        .tensor("a", Dtype.U8, new long[] {1}, new byte[1])
        .write(dir.resolve("model-extra.safetensors"));
    assertRejected(Rule.DUPLICATE_TENSOR, "a");
  }

  @Test
  void emptyDirectory(@TempDir Path empty) {
    SafetensorsFormatException e =
        catchThrowableOfType(SafetensorsFormatException.class, () -> SafetensorsModel.open(empty));
    assertThat(e.rule()).isEqualTo(Rule.NO_SAFETENSORS_FILES);
  }

  @Test
  void indexNamesMissingFile() throws IOException {
    index("{\"weight_map\":{" + GOOD_MAP + ",\"d\":\"model-00003-of-00003.safetensors\"}}");
    assertRejected(Rule.INDEX_FILE_MISSING, "d");
  }

  @Test
  void indexPointsOutsideTheDirectory() throws IOException {
    index("{\"weight_map\":{" + GOOD_MAP.replace("\"c\":\"", "\"c\":\"../") + "}}");
    assertRejected(Rule.INDEX_FILE_MISSING, "c");
  }

  @Test
  void indexNamesWrongFile() throws IOException {
    index("{\"weight_map\":{" + GOOD_MAP.replace("\"c\":\"model-00002", "\"c\":\"model-00001")
        + "}}");
    SafetensorsFormatException e = assertRejected(Rule.INDEX_MISMATCH, "c");
    assertThat(e.getMessage()).contains("does not hold it");
  }

  @Test
  void shardHoldsUnlistedTensor() throws IOException {
    index(
        "{\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\",\"c\":\"model-00002-of-00002.safetensors\"}}");
    assertRejected(Rule.INDEX_MISMATCH, "b");
  }

  @Test
  void indexListsTensorTwice() throws IOException {
    index("{\"weight_map\":{" + GOOD_MAP + ",\"a\":\"model-00001-of-00002.safetensors\"}}");
    assertRejected(Rule.DUPLICATE_TENSOR, "a");
  }

  @Test
  void malformedIndexes() throws IOException {
    index("{\"metadata\":{}}");
    assertRejected(Rule.INVALID_INDEX, null);
    index("{\"weight_map\":{\"a\":1}}");
    assertRejected(Rule.INVALID_INDEX, "a");
    index("{\"weight_map\":{" + GOOD_MAP + "}");
    assertRejected(Rule.INVALID_INDEX, null);
    index("{\"metadata\":" + "[".repeat(10_000) + "]".repeat(10_000) + ",\"weight_map\":{"
        + GOOD_MAP + "}}");
    SafetensorsFormatException e = assertRejected(Rule.INVALID_INDEX, null);
    assertThat(e.getMessage()).contains("nesting deeper");
  }

  @Test
  void invalidShardIsReportedWithItsOwnPath() throws IOException {
    Corpus.raw(
        dir.resolve("model-00002-of-00002.safetensors"),
        "{\"c\":{\"dtype\":\"X\",\"shape\":[],\"data_offsets\":[0,1]}}",
        1);
    SafetensorsFormatException e =
        catchThrowableOfType(SafetensorsFormatException.class, () -> SafetensorsModel.open(dir));
    assertThat(e.rule()).isEqualTo(Rule.UNKNOWN_DTYPE);
    assertThat(e.file()).isEqualTo(dir.resolve("model-00002-of-00002.safetensors"));
    assertThat(e.tensor()).contains("c");
  }

  private SafetensorsFormatException assertRejected(Rule rule, String tensor) {
    SafetensorsFormatException e =
        catchThrowableOfType(SafetensorsFormatException.class, () -> SafetensorsModel.open(dir));
    assertThat(e).as("expected %s", rule).isNotNull();
    assertThat(e.rule()).as(e.getMessage()).isEqualTo(rule);
    if (tensor == null) {
      assertThat(e.tensor()).isEmpty();
    } else {
      assertThat(e.tensor()).contains(tensor);
      assertThat(e.getMessage()).contains("'" + tensor + "'");
    }
    return e;
  }
}
