package dev.modelcache.loader;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** {@link TensorSink#loadFailed}: called once for a failed {@link Loader#load}, never for one that succeeds. */
class LoadFailedTest {

  @TempDir
  Path tmp;

  @ParameterizedTest
  @EnumSource(ReadStrategy.class)
  void aSinkThatFailsIsToldOnceAfterItsLastCall(ReadStrategy strategy) throws IOException {
    ModelDir model = ModelDir.write(tmp.resolve("m"), 2, 4, 50_000, 3);
    IOException refused = new IOException("refused");
    CheckingSink sink = new CheckingSink(model.tensors) {
      @Override
      public void endTensor(TensorInfo tensor) throws IOException {
        assertThat(failure).as("no call after loadFailed").isNull();
        super.endTensor(tensor);
        if (arrivals.size() == 5) {
          throw refused;
        }
      }
    };
    Loader loader = Loader.builder().strategy(strategy).build();

    assertThatThrownBy(() -> loader.load(model.dir, sink))
        .isInstanceOf(TensorSinkException.class)
        .hasCause(refused);
    assertThat(sink.failure).isInstanceOf(TensorSinkException.class).hasCause(refused);
  }

  @Test
  void aModelThatCannotBeOpenedIsToldToo() throws IOException {
    Path empty = Files.createDirectories(tmp.resolve("empty"));
    CheckingSink sink = new CheckingSink(java.util.Map.of());

    assertThatThrownBy(() -> Loader.builder().build().load(empty, sink))
        .isInstanceOf(SafetensorsFormatException.class);
    assertThat(sink.failure).isInstanceOf(SafetensorsFormatException.class);
  }

  @Test
  void aLoadThatSucceedsTellsNothing() throws IOException {
    ModelDir model = ModelDir.write(tmp.resolve("m"), 1, 3, 10_000, 4);
    CheckingSink sink = new CheckingSink(model.tensors);

    Loader.builder().build().load(model.dir, sink);
    assertThat(sink.failure).isNull();
    assertThat(sink.arrivals).hasSize(3);
  }
}
