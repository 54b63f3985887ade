package dev.modelcache.loader;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A sink that records the order tensors arrive in and checks every byte of every tensor, as it
 * arrives, against the bytes the model was written with; chunks must be contiguous and cover each
 * tensor exactly. It records the failure {@link #loadFailed} is told of.
 */
class CheckingSink implements TensorSink {

  private final Map<String, byte[]> expected;
  private final boolean checkBytes;
  final List<String> arrivals = new ArrayList<>();
  volatile Exception failure;
  private long nextOffset;
  private String open;

  CheckingSink(Map<String, byte[]> expected) {
    this(expected, true);
  }

  /** With {@code checkBytes} false, only the order and the lengths are checked. */
  CheckingSink(Map<String, byte[]> expected, boolean checkBytes) {
    this.expected = expected;
    this.checkBytes = checkBytes;
  }

  @Override
  public void beginTensor(TensorInfo tensor) throws IOException {
    assertThat(open).as("a tensor begins while %s is open", open).isNull();
    assertThat(expected)
        .as("tensor %s is one of the model's", tensor.name())
        .containsKey(tensor.name());
    open = tensor.name();
    nextOffset = 0;
    arrivals.add(tensor.name());
  }

  @Override
  public void chunk(TensorInfo tensor, long offsetInTensor, MemorySegment bytes)
      throws IOException {
    assertThat(tensor.name()).isEqualTo(open);
    assertThat(offsetInTensor).as("chunks of %s are contiguous", open).isEqualTo(nextOffset);
    byte[] want = expected.get(tensor.name());
    byte[] got = bytes.toArray(ValueLayout.JAVA_BYTE);
    nextOffset += got.length;
    if (!checkBytes) {
      return;
    }
    byte[] slice =
        Arrays.copyOfRange(want, (int) offsetInTensor, (int) offsetInTensor + got.length);
    if (!Arrays.equals(slice, got)) {
      int i = Arrays.mismatch(slice, got);
      throw new AssertionError(
          "tensor " + tensor.name() + " differs at byte " + (offsetInTensor + i));
    }
  }

  @Override
  public void endTensor(TensorInfo tensor) throws IOException {
    assertThat(nextOffset)
        .as("bytes of %s", tensor.name())
        .isEqualTo(expected.get(tensor.name()).length);
    open = null;
  }

  @Override
  public void loadFailed(Exception cause) {
    assertThat(failure).as("loadFailed is called once").isNull();
    failure = cause;
  }
}
