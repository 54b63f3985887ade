package dev.modelcache.loader;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Walks one file's tensors in offset order and cuts incoming runs of data-section bytes into
 * sink calls. The sink's exceptions become {@link TensorSinkException}.
 */
final class TensorCursor {
  private final List<TensorInfo> tensors;
  private final TensorSink sink;
  private int index;
  private boolean open;
  private long bytesDelivered;

  TensorCursor(List<TensorInfo> tensorsByOffset, TensorSink sink) {
    this.tensors = tensorsByOffset;
    this.sink = sink;
  }

  /**
   * Delivers the bytes {@code [dataPos, dataPos + bytes.byteSize())} of the data section. Runs
   * must arrive contiguously from 0.
   */
  void deliver(long dataPos, MemorySegment bytes) throws IOException {
    long end = dataPos + bytes.byteSize();
    while (index < tensors.size()) {
      TensorInfo t = tensors.get(index);
      if (Thread.currentThread().isInterrupted()) {
        throw new InterruptedIOException(
            "load interrupted before tensor '" + t.name() + "' of " + t.file());
      }
      if (t.byteSize() == 0) {
        emitEmpty(t);
        continue;
      }
      if (t.dataBegin() >= end) {
        return;
      }
      long from = Math.max(t.dataBegin(), dataPos);
      long to = Math.min(t.dataEnd(), end);
      TensorInfo current = t;
      try {
        if (!open) {
          sink.beginTensor(current);
          open = true;
        }
        sink.chunk(current, from - current.dataBegin(), bytes.asSlice(from - dataPos, to - from));
        bytesDelivered += to - from;
        if (to == current.dataEnd()) {
          open = false;
          index++;
          sink.endTensor(current);
        } else {
          return;
        }
      } catch (TensorSinkException e) {
        throw e;
      } catch (Exception e) {
        throw new TensorSinkException(current.name(), e);
      }
    }
  }

  private void emitEmpty(TensorInfo t) throws TensorSinkException {
    index++;
    try {
      sink.beginTensor(t);
      sink.endTensor(t);
    } catch (Exception e) {
      throw new TensorSinkException(t.name(), e);
    }
  }

  /** Emits the zero-byte tensors at the very end and checks that every tensor was delivered. */
  void finish() throws TensorSinkException {
    while (index < tensors.size() && tensors.get(index).byteSize() == 0) {
      emitEmpty(tensors.get(index));
    }
    if (index != tensors.size() || open) {
      throw new IllegalStateException(
          "tensor " + tensors.get(Math.min(index, tensors.size() - 1)).name()
              + " was not delivered completely");
    }
  }

  long bytesDelivered() {
    return bytesDelivered;
  }

  int tensorsDelivered() {
    return index;
  }
}
