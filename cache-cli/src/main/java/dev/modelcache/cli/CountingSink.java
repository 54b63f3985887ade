package dev.modelcache.cli;

import dev.modelcache.loader.TensorInfo;
import dev.modelcache.loader.TensorSink;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** Passes every call on to a sink and counts the bytes into a progress display. */
final class CountingSink implements TensorSink {

  private final TensorSink delegate;
  private final Progress progress;

  CountingSink(TensorSink delegate, Progress progress) {
    this.delegate = delegate;
    this.progress = progress;
  }

  @Override
  public MemorySegment allocateBuffer(long byteSize, long byteAlignment, Arena arena) {
    return delegate.allocateBuffer(byteSize, byteAlignment, arena);
  }

  @Override
  public void releaseBuffer(MemorySegment buffer) {
    delegate.releaseBuffer(buffer);
  }

  @Override
  public void beginTensor(TensorInfo tensor) throws IOException {
    delegate.beginTensor(tensor);
  }

  @Override
  public void chunk(TensorInfo tensor, long offsetInTensor, MemorySegment bytes)
      throws IOException {
    delegate.chunk(tensor, offsetInTensor, bytes);
    progress.advance(bytes.byteSize());
  }

  @Override
  public void endTensor(TensorInfo tensor) throws IOException {
    delegate.endTensor(tensor);
  }
}
