package dev.modelcache.cuda;

import dev.modelcache.loader.LoadResult;
import dev.modelcache.loader.Loader;
import dev.modelcache.loader.SafetensorsFile;
import dev.modelcache.loader.SafetensorsModel;
import dev.modelcache.loader.TensorInfo;
import dev.modelcache.loader.TensorSink;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Loads a model into the memory of one CUDA device.
 *
 * <pre>{@code
 * try (CudaTensorSink sink = CudaTensorSink.open(0)) {
 *     sink.load(Loader.builder().build(), SafetensorsModel.open(Path.of("/models/llama")));
 *     CudaTensor wq = sink.tensor("model.layers.0.self_attn.q_proj.weight");
 *     long devicePointer = wq.devicePointer(); // hand to your kernels
 * }
 * }</pre>
 *
 * <h2>How it loads</h2>
 * <ul>
 *   <li>{@link #reserve} makes one {@code cudaMalloc} for the whole model and places each tensor
 *       in it at an offset aligned to 256 bytes, in file and offset order.</li>
 *   <li>The loader's read buffers are pinned host memory from {@code cudaHostAlloc}
 *       ({@link #allocateBuffer}), so {@code O_DIRECT} reads land where the device copies them by
 *       DMA. They are kept, and reused by later loads, until {@link #close()}.</li>
 *   <li>Each buffer has its own stream. Each piece of a tensor is copied with
 *       {@code cudaMemcpyAsync} on the stream of the buffer it lies in, and the stream is
 *       synchronized before {@link #chunk} returns, since the loader may refill the buffer right
 *       after. Disk reads and copies overlap through the loader's pool: while one buffer is
 *       copied to the device, reads fill the others.</li>
 *   <li>Pieces that are not in a pinned buffer (the {@code MMAP} strategy) are copied from
 *       pageable memory on a stream of the sink's own.</li>
 * </ul>
 *
 * <h2>Errors and release</h2>
 * A failing CUDA call raises {@link CudaException} (or {@link CudaOutOfMemoryException}) naming
 * the call, its error number and CUDA's description. The sink then releases its device memory
 * and streams at once, and each pinned buffer as soon as the loader gives it back; it cannot be
 * used again. {@link #close()} frees whatever is left, each allocation exactly once; it is
 * idempotent.
 *
 * <p>One load at a time, as {@link TensorSink} says; the methods are synchronized, so any thread
 * may read {@link #tensor} once the load returned. GPUDirect Storage ({@code libcufile}) is not
 * used.
 */
public final class CudaTensorSink implements TensorSink, AutoCloseable {
  /** Alignment of each tensor in device memory (what {@code cudaMalloc} guarantees for its base). */
  public static final long DEVICE_ALIGNMENT = 256;

  private final DeviceRuntime runtime;
  private final int device;
  private final List<Pinned> pinned = new ArrayList<>();
  private final ArrayDeque<Pinned> idle = new ArrayDeque<>();
  private final Map<String, CudaTensor> plan = new LinkedHashMap<>();
  private final Map<String, CudaTensor> loaded = new LinkedHashMap<>();
  private long copyStream;
  private long deviceBase;
  private long deviceBytes;
  private CudaTensor current;
  private long bytesCopied;
  private Thread deviceThread;
  private Exception failure;
  private boolean closed;

  /** A pinned buffer: what was allocated, the aligned part lent to the loader, and its stream. */
  private static final class Pinned {
    final MemorySegment allocation;
    final MemorySegment lent;
    long stream;

    Pinned(MemorySegment allocation, MemorySegment lent) {
      this.allocation = allocation;
      this.lent = lent;
    }

    boolean holds(MemorySegment bytes) {
      long a = bytes.address();
      return a >= lent.address() && a + bytes.byteSize() <= lent.address() + lent.byteSize();
    }
  }

  private CudaTensorSink(DeviceRuntime runtime, int device) {
    this.runtime = runtime;
    this.device = device;
  }

  /**
   * Binds the CUDA runtime and opens a sink for {@code device}.
   *
   * @param device the CUDA device ordinal, from 0
   * @throws CudaUnavailableException if there is no CUDA runtime library, no native access, no
   *     (recent enough) driver, or no such device
   * @throws CudaException if a CUDA call failed otherwise
   * @throws IllegalArgumentException if {@code device} is negative
   */
  public static CudaTensorSink open(int device) throws CudaException, CudaUnavailableException {
    if (device < 0) {
      throw new IllegalArgumentException("CUDA device must be 0 or more, not " + device);
    }
    return open(CudaRuntime.load(), device);
  }

  /** {@link #open(int)} on a given runtime: the tests' entry. */
  static CudaTensorSink open(DeviceRuntime runtime, int device)
      throws CudaException, CudaUnavailableException {
    Objects.requireNonNull(runtime, "runtime");
    int[] count = new int[1];
    int rc = runtime.getDeviceCount(count);
    if (rc != DeviceRuntime.SUCCESS) {
      CudaException e = error(runtime, "cudaGetDeviceCount", rc, 0, null);
      CudaUnavailableException.Reason reason = switch (rc) {
        case DeviceRuntime.ERROR_NO_DEVICE -> CudaUnavailableException.Reason.NO_DEVICE;
        case DeviceRuntime.ERROR_INSUFFICIENT_DRIVER,
            DeviceRuntime.ERROR_STUB_LIBRARY,
            DeviceRuntime.ERROR_INITIALIZATION,
            DeviceRuntime.ERROR_SYSTEM_DRIVER_MISMATCH -> CudaUnavailableException.Reason.NO_DRIVER;
        default -> null;
      };
      if (reason == null) {
        throw e;
      }
      String what = reason == CudaUnavailableException.Reason.NO_DEVICE
          ? "no CUDA device"
          : "no usable NVIDIA driver";
      throw new CudaUnavailableException(
          reason, what + ": " + e.getMessage() + " [" + runtime.description() + "]", e);
    }
    if (device >= count[0]) {
      throw new CudaUnavailableException(
          CudaUnavailableException.Reason.NO_DEVICE,
          "no CUDA device " + device + ": " + count[0] + " device(s) visible ["
              + runtime.description() + "]",
          null);
    }
    CudaTensorSink sink = new CudaTensorSink(runtime, device);
    try {
      sink.useDevice();
      long[] s = new long[1];
      sink.check("cudaStreamCreate", runtime.streamCreate(s), 0, "the copy stream");
      sink.copyStream = s[0];
      return sink;
    } catch (CudaException e) {
      sink.close();
      throw e;
    }
  }

  /** The device ordinal. */
  public int device() {
    return device;
  }

  /** What was bound: the runtime library and its version. */
  public String runtimeDescription() {
    return runtime.description();
  }

  /**
   * Allocates device memory for every tensor of {@code model} in one {@code cudaMalloc} and
   * fixes each tensor's offset in it. {@link #load} calls it; call it yourself before passing
   * this sink to {@link Loader#load} directly.
   *
   * @throws CudaOutOfMemoryException if the device has not enough free memory (the sink is
   *     then released)
   * @throws CudaException if another CUDA call failed (the sink is then released)
   * @throws IllegalStateException if the sink already holds a model, failed or is closed
   */
  public synchronized void reserve(SafetensorsModel model) throws CudaException {
    Objects.requireNonNull(model, "model");
    ensureUsable();
    if (deviceBase != 0) {
      throw new IllegalStateException("this CUDA sink already holds a model; open another sink");
    }
    Map<String, long[]> offsets = new LinkedHashMap<>();
    long size = 0;
    for (SafetensorsFile f : model.files()) {
      for (TensorInfo t : f.tensors()) {
        size = (size + DEVICE_ALIGNMENT - 1) / DEVICE_ALIGNMENT * DEVICE_ALIGNMENT;
        offsets.put(t.name(), new long[] {size});
        size = Math.addExact(size, t.byteSize());
      }
    }
    try {
      useDevice();
      long[] p = new long[1];
      long request = Math.max(size, 1);
      check(
          "cudaMalloc",
          runtime.malloc(p, request),
          request,
          request + " bytes on device " + device + " for " + model.path());
      deviceBase = p[0];
      deviceBytes = size;
    } catch (CudaException e) {
      fail(e);
      throw e;
    }
    for (SafetensorsFile f : model.files()) {
      for (TensorInfo t : f.tensors()) {
        long off = offsets.get(t.name())[0];
        plan.put(
            t.name(),
            new CudaTensor(t.name(), t.dtype(), t.shape(), t.byteSize(), off, deviceBase + off));
      }
    }
  }

  /**
   * Reserves device memory for {@code model} and loads it; every copy is complete on the device
   * when this returns.
   *
   * @throws CudaException if a CUDA call failed (the sink is then released)
   * @throws IOException if loading failed otherwise (the sink is then released)
   */
  public LoadResult load(Loader loader, SafetensorsModel model) throws IOException {
    Objects.requireNonNull(loader, "loader");
    reserve(model);
    try {
      LoadResult result = loader.load(model, this);
      synchronizeAll();
      return result;
    } catch (IOException | RuntimeException e) {
      CudaException cuda = cudaCause(e);
      synchronized (this) {
        fail(cuda != null ? cuda : e);
      }
      if (cuda != null && cuda != e) {
        throw cuda;
      }
      throw e;
    }
  }

  /** {@link #load(Loader, SafetensorsModel)} of the model at {@code path}. */
  public LoadResult load(Loader loader, Path path) throws IOException {
    return load(loader, SafetensorsModel.open(path));
  }

  /**
   * Supplies a pinned host buffer ({@code cudaHostAlloc}) with a stream of its own, reusing one
   * a previous load gave back.
   *
   * @throws UncheckedIOException with a {@link CudaException} as cause if a CUDA call failed
   */
  @Override
  public synchronized MemorySegment allocateBuffer(long byteSize, long byteAlignment, Arena arena) {
    ensureUsable();
    for (var it = idle.iterator(); it.hasNext(); ) {
      Pinned p = it.next();
      if (p.lent.byteSize() >= byteSize && p.lent.address() % byteAlignment == 0) {
        it.remove();
        return p.lent.asSlice(0, byteSize);
      }
    }
    try {
      useDevice();
      Pinned p = allocatePinned(byteSize, byteAlignment);
      long[] s = new long[1];
      check("cudaStreamCreate", runtime.streamCreate(s), 0, "a stream for a read buffer");
      p.stream = s[0];
      return p.lent;
    } catch (CudaException e) {
      fail(e);
      throw new UncheckedIOException(e);
    }
  }

  private Pinned allocatePinned(long byteSize, long byteAlignment) throws CudaException {
    MemorySegment[] out = new MemorySegment[1];
    check(
        "cudaHostAlloc",
        runtime.hostAlloc(out, byteSize),
        byteSize,
        byteSize + " bytes of pinned host memory");
    MemorySegment a = out[0];
    if (a.address() % byteAlignment != 0) {
      // cudaHostAlloc returns page-aligned memory; a larger alignment needs room to slide.
      check("cudaFreeHost", runtime.freeHost(a), 0, "a misaligned pinned buffer");
      long padded = Math.addExact(byteSize, byteAlignment);
      check(
          "cudaHostAlloc",
          runtime.hostAlloc(out, padded),
          padded,
          padded + " bytes of pinned host memory");
      a = out[0];
    }
    long skip = (byteAlignment - a.address() % byteAlignment) % byteAlignment;
    Pinned p = new Pinned(a, a.asSlice(skip, byteSize));
    pinned.add(p);
    return p;
  }

  /** Takes a buffer back for reuse; frees it at once if the sink failed or is closed. */
  @Override
  public synchronized void releaseBuffer(MemorySegment buffer) {
    Pinned p = owner(buffer);
    if (p == null) {
      return;
    }
    if (closed || failure != null) {
      freePinned(p);
    } else {
      idle.add(p);
    }
  }

  @Override
  public synchronized void beginTensor(TensorInfo tensor) throws IOException {
    ensureUsable();
    CudaTensor t = plan.get(tensor.name());
    if (t == null) {
      throw new IllegalStateException(
          deviceBase == 0
              ? "no device memory reserved: call reserve(model) before loading, or use load(loader, model)"
              : "tensor '" + tensor.name() + "' is not in the reserved model");
    }
    if (t.byteSize() != tensor.byteSize()) {
      throw new IllegalStateException("tensor '" + tensor.name() + "' is not the one reserved");
    }
    current = t;
    try {
      useDevice();
    } catch (CudaException e) {
      fail(e);
      throw e;
    }
  }

  @Override
  public synchronized void chunk(TensorInfo tensor, long offsetInTensor, MemorySegment bytes)
      throws IOException {
    ensureUsable();
    CudaTensor t = current;
    if (t == null || !t.name().equals(tensor.name())) {
      throw new IllegalStateException("chunk of '" + tensor.name() + "' outside its tensor");
    }
    long n = bytes.byteSize();
    if (offsetInTensor < 0 || offsetInTensor + n > t.byteSize()) {
      throw new IllegalStateException("chunk [" + offsetInTensor + ", " + (offsetInTensor + n)
          + ") outside tensor '" + t.name() + "' of " + t.byteSize() + " bytes");
    }
    Pinned p = owner(bytes);
    long stream = p != null ? p.stream : copyStream;
    try {
      check(
          "cudaMemcpyAsync",
          runtime.memcpyHostToDeviceAsync(t.devicePointer() + offsetInTensor, bytes, stream),
          0,
          n + " bytes of '" + t.name() + "' at offset " + offsetInTensor);
      // The loader may refill the buffer once this returns: the copy must be done.
      check(
          "cudaStreamSynchronize",
          runtime.streamSynchronize(stream),
          0,
          "copying '" + t.name() + "'");
    } catch (CudaException e) {
      fail(e);
      throw e;
    }
    bytesCopied += n;
  }

  @Override
  public synchronized void endTensor(TensorInfo tensor) {
    loaded.put(tensor.name(), current);
    current = null;
  }

  /**
   * Waits for every stream of the sink.
   *
   * @throws CudaException if a stream reports an error (the sink is then released)
   */
  public synchronized void synchronizeAll() throws CudaException {
    ensureUsable();
    try {
      useDevice();
      for (Pinned p : pinned) {
        check(
            "cudaStreamSynchronize",
            runtime.streamSynchronize(p.stream),
            0,
            "a read buffer's stream");
      }
      check("cudaStreamSynchronize", runtime.streamSynchronize(copyStream), 0, "the copy stream");
    } catch (CudaException e) {
      fail(e);
      throw e;
    }
  }

  /**
   * A loaded tensor.
   *
   * @throws IllegalArgumentException if no such tensor was loaded
   * @throws IllegalStateException if the sink failed or is closed
   */
  public synchronized CudaTensor tensor(String name) {
    ensureUsable();
    CudaTensor t = loaded.get(Objects.requireNonNull(name, "name"));
    if (t == null) {
      throw new IllegalArgumentException("no tensor named '" + name + "' was loaded");
    }
    return t;
  }

  /** The loaded tensors, in load order. */
  public synchronized List<CudaTensor> tensors() {
    ensureUsable();
    return Collections.unmodifiableList(new ArrayList<>(loaded.values()));
  }

  /** The device address of the model's allocation (0 before {@link #reserve}). */
  public synchronized long devicePointer() {
    return deviceBase;
  }

  /** The bytes the model's tensors take in device memory, alignment gaps included. */
  public synchronized long deviceBytes() {
    return deviceBytes;
  }

  /** The bytes copied to the device so far. */
  public synchronized long bytesCopied() {
    return bytesCopied;
  }

  /** The number of pinned host buffers allocated (they are reused across files and loads). */
  public synchronized int pinnedBufferCount() {
    return pinned.size();
  }

  /**
   * Frees the device memory, the pinned buffers and the streams, each exactly once. Idempotent.
   * Errors from the frees are not thrown: the memory is gone with the process either way.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    releaseAll(true);
  }

  private void ensureUsable() {
    if (closed) {
      throw new IllegalStateException("CUDA sink is closed");
    }
    if (failure != null) {
      throw new IllegalStateException(
          "CUDA sink was released after a failure: " + failure.getMessage(), failure);
    }
  }

  /** Marks the sink failed and releases what no read may still be using. */
  private void fail(Exception cause) {
    if (failure == null && !closed) {
      failure = cause;
      releaseAll(false);
    }
  }

  /**
   * Waits for the streams, then frees streams and device memory, and the pinned buffers not
   * lent to the loader (all of them when {@code lentToo}).
   */
  private void releaseAll(boolean lentToo) {
    if (deviceThread != Thread.currentThread()) {
      runtime.setDevice(device);
    }
    for (Pinned p : pinned) {
      if (p.stream != 0) {
        runtime.streamSynchronize(p.stream);
      }
    }
    if (copyStream != 0) {
      runtime.streamSynchronize(copyStream);
    }
    for (Pinned p : pinned) {
      if (p.stream != 0) {
        runtime.streamDestroy(p.stream);
        p.stream = 0;
      }
    }
    if (copyStream != 0) {
      runtime.streamDestroy(copyStream);
      copyStream = 0;
    }
    if (deviceBase != 0) {
      runtime.free(deviceBase);
      deviceBase = 0;
    }
    plan.clear();
    loaded.clear();
    current = null;
    for (Pinned p : List.copyOf(pinned)) {
      if (lentToo || idle.contains(p)) {
        freePinned(p);
      }
    }
  }

  private void freePinned(Pinned p) {
    if (pinned.remove(p)) {
      idle.remove(p);
      if (p.stream != 0) {
        runtime.streamSynchronize(p.stream);
        runtime.streamDestroy(p.stream);
        p.stream = 0;
      }
      runtime.freeHost(p.allocation);
    }
  }

  private Pinned owner(MemorySegment bytes) {
    for (Pinned p : pinned) {
      if (p.holds(bytes)) {
        return p;
      }
    }
    return null;
  }

  /** The runtime's current device is per thread: set it on each new calling thread. */
  private void useDevice() throws CudaException {
    Thread t = Thread.currentThread();
    if (deviceThread != t) {
      check("cudaSetDevice", runtime.setDevice(device), 0, "device " + device);
      deviceThread = t;
    }
  }

  private void check(String call, int rc, long requestedBytes, String context)
      throws CudaException {
    if (rc != DeviceRuntime.SUCCESS) {
      throw error(runtime, call, rc, requestedBytes, context);
    }
  }

  private static CudaException error(
      DeviceRuntime runtime, String call, int rc, long requestedBytes, String context) {
    String s;
    try {
      s = runtime.getErrorString(rc);
    } catch (RuntimeException e) {
      s = "no description: " + e;
    }
    if (rc == DeviceRuntime.ERROR_MEMORY_ALLOCATION) {
      return new CudaOutOfMemoryException(call, rc, s, requestedBytes, context);
    }
    return new CudaException(call, rc, s, context);
  }

  private static CudaException cudaCause(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof CudaException e) {
        return e;
      }
    }
    return null;
  }
}
