package dev.modelcache.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntPredicate;

/**
 * A {@link DeviceRuntime} without a device. Device memory is heap arrays at made-up addresses;
 * pinned memory is native memory from an arena per allocation. A copy is queued on its stream and
 * reads its source only when the stream is synchronized, as DMA would, so a sink that lets the
 * loader reuse a buffer before its copy is done ends up with wrong bytes. Every allocation and
 * every free is recorded; failures are injected per call by number (1 for the first call).
 */
final class FakeDeviceRuntime implements DeviceRuntime {
  /** {@code cudaErrorIllegalAddress}, a failure in the middle of a copy. */
  static final int ERROR_ILLEGAL_ADDRESS = 700;

  private record Copy(long dst, MemorySegment src) {}

  /** One allocation (device memory, pinned memory or a stream) and how often it was freed. */
  static final class Allocation {
    final String kind;
    final long key;
    final long size;
    int frees;

    Allocation(String kind, long key, long size) {
      this.kind = kind;
      this.key = key;
      this.size = size;
    }

    @Override
    public String toString() {
      return kind + "@" + Long.toHexString(key) + " (" + size + " bytes, freed " + frees + "x)";
    }
  }

  final int deviceCountError;
  final int deviceCount;
  long deviceCapacity = 1L << 30;
  /** Which call of each function fails, and with what error. */
  final Map<String, IntPredicate> failWhen = new HashMap<>();

  final Map<String, Integer> failWith = new HashMap<>();
  final Map<String, Integer> calls = new HashMap<>();

  private final Map<Long, byte[]> device = new LinkedHashMap<>();
  private final Map<Long, Arena> hostArenas = new HashMap<>();
  private final Map<Long, List<Copy>> pending = new HashMap<>();
  final List<Allocation> allocations = new ArrayList<>();
  final List<String> badFrees = new ArrayList<>();
  final List<MemorySegment> copySources = new ArrayList<>();
  private long nextDevice = 0x7f00_0000_0000L;
  private long nextStream = 0x5000;
  int synchronizations;

  FakeDeviceRuntime(int deviceCount) {
    this(SUCCESS, deviceCount);
  }

  FakeDeviceRuntime(int deviceCountError, int deviceCount) {
    this.deviceCountError = deviceCountError;
    this.deviceCount = deviceCount;
  }

  /** Makes the {@code n}-th call (from 1) of {@code function} return {@code error}. */
  FakeDeviceRuntime failOnCall(String function, int n, int error) {
    failWhen.put(function, k -> k == n);
    failWith.put(function, error);
    return this;
  }

  private int call(String function) {
    int n = calls.merge(function, 1, Integer::sum);
    IntPredicate p = failWhen.get(function);
    return p != null && p.test(n) ? failWith.get(function) : SUCCESS;
  }

  @Override
  public String description() {
    return "fake runtime";
  }

  @Override
  public int getDeviceCount(int[] count) {
    count[0] = deviceCountError == SUCCESS ? deviceCount : 0;
    return deviceCountError;
  }

  @Override
  public int setDevice(int d) {
    int rc = call("cudaSetDevice");
    return rc != SUCCESS ? rc : d < deviceCount ? SUCCESS : ERROR_INVALID_DEVICE;
  }

  @Override
  public int malloc(long[] devicePointer, long byteSize) {
    int rc = call("cudaMalloc");
    if (rc == SUCCESS && byteSize > deviceCapacity) {
      rc = ERROR_MEMORY_ALLOCATION;
    }
    if (rc != SUCCESS) {
      return rc;
    }
    long p = nextDevice;
    nextDevice += (byteSize + 0xffff) / 0x10000 * 0x10000 + 0x10000;
    device.put(p, new byte[Math.toIntExact(byteSize)]);
    allocations.add(new Allocation("device", p, byteSize));
    devicePointer[0] = p;
    return SUCCESS;
  }

  @Override
  public int free(long devicePointer) {
    call("cudaFree");
    return freed("device", devicePointer) && device.remove(devicePointer) != null
        ? SUCCESS
        : ERROR_INVALID_VALUE;
  }

  @Override
  @SuppressWarnings("MustBeClosedChecker") // the arena is closed by freeHost, like cudaFreeHost
  public int hostAlloc(MemorySegment[] host, long byteSize) {
    int rc = call("cudaHostAlloc");
    if (rc != SUCCESS) {
      return rc;
    }
    Arena a = Arena.ofShared();
    MemorySegment s = a.allocate(byteSize, 4096);
    hostArenas.put(s.address(), a);
    allocations.add(new Allocation("pinned", s.address(), byteSize));
    host[0] = s;
    return SUCCESS;
  }

  @Override
  public int freeHost(MemorySegment host) {
    call("cudaFreeHost");
    if (!freed("pinned", host.address())) {
      return ERROR_INVALID_VALUE;
    }
    hostArenas.remove(host.address()).close();
    return SUCCESS;
  }

  @Override
  public int streamCreate(long[] stream) {
    int rc = call("cudaStreamCreate");
    if (rc != SUCCESS) {
      return rc;
    }
    long s = nextStream++;
    pending.put(s, new ArrayList<>());
    allocations.add(new Allocation("stream", s, 0));
    stream[0] = s;
    return SUCCESS;
  }

  @Override
  public int streamDestroy(long stream) {
    call("cudaStreamDestroy");
    if (!freed("stream", stream)) {
      return ERROR_INVALID_VALUE;
    }
    List<Copy> left = pending.remove(stream);
    if (!left.isEmpty()) {
      badFrees.add(
          "stream " + stream + " destroyed with " + left.size() + " copies not synchronized");
    }
    return SUCCESS;
  }

  @Override
  public int memcpyHostToDeviceAsync(long dst, MemorySegment src, long stream) {
    int rc = call("cudaMemcpyAsync");
    if (rc != SUCCESS) {
      return rc;
    }
    List<Copy> queue = pending.get(stream);
    if (queue == null || target(dst, src.byteSize()) == null) {
      return ERROR_INVALID_VALUE;
    }
    copySources.add(src);
    queue.add(new Copy(dst, src));
    return SUCCESS;
  }

  @Override
  public int streamSynchronize(long stream) {
    int rc = call("cudaStreamSynchronize");
    List<Copy> queue = pending.get(stream);
    if (queue == null) {
      return ERROR_INVALID_VALUE;
    }
    if (rc != SUCCESS) {
      queue.clear();
      return rc;
    }
    for (Copy c : queue) {
      Map.Entry<Long, byte[]> t = target(c.dst(), c.src().byteSize());
      MemorySegment.copy(
          c.src(), ValueLayout.JAVA_BYTE, 0, t.getValue(), (int) (c.dst() - t.getKey()), (int)
              c.src().byteSize());
    }
    queue.clear();
    synchronizations++;
    return SUCCESS;
  }

  @Override
  public String getErrorString(int error) {
    return switch (error) {
      case SUCCESS -> "no error";
      case ERROR_INVALID_VALUE -> "invalid argument";
      case ERROR_MEMORY_ALLOCATION -> "out of memory";
      case ERROR_INSUFFICIENT_DRIVER ->
        "CUDA driver version is insufficient for CUDA runtime version";
      case ERROR_NO_DEVICE -> "no CUDA-capable device is detected";
      case ERROR_INVALID_DEVICE -> "invalid device ordinal";
      case ERROR_ILLEGAL_ADDRESS -> "an illegal memory access was encountered";
      default -> "unrecognized error code";
    };
  }

  private Map.Entry<Long, byte[]> target(long dst, long n) {
    for (Map.Entry<Long, byte[]> e : device.entrySet()) {
      if (dst >= e.getKey() && dst + n <= e.getKey() + e.getValue().length) {
        return e;
      }
    }
    return null;
  }

  private boolean freed(String kind, long key) {
    for (Allocation a : allocations) {
      if (a.kind.equals(kind) && a.key == key && a.frees == 0) {
        a.frees++;
        return true;
      }
    }
    for (Allocation a : allocations) {
      if (a.kind.equals(kind) && a.key == key) {
        a.frees++;
      }
    }
    badFrees.add(
        "free of " + kind + "@" + Long.toHexString(key) + " not allocated or already freed");
    return false;
  }

  /** The device bytes at a device address. */
  byte[] deviceBytes(long address, int n) {
    Map.Entry<Long, byte[]> t = target(address, n);
    if (t == null) {
      throw new AssertionError("no device memory at 0x" + Long.toHexString(address));
    }
    byte[] out = new byte[n];
    System.arraycopy(t.getValue(), (int) (address - t.getKey()), out, 0, n);
    return out;
  }

  /** Copies queued on any stream that no synchronize has completed. */
  int pendingCopies() {
    return pending.values().stream().mapToInt(List::size).sum();
  }

  List<Allocation> of(String kind) {
    return allocations.stream().filter(a -> a.kind.equals(kind)).toList();
  }

  /** Asserts every allocation was freed exactly once and nothing else was freed. */
  void assertAllFreedOnce() {
    List<Allocation> wrong = allocations.stream().filter(a -> a.frees != 1).toList();
    if (!wrong.isEmpty() || !badFrees.isEmpty()) {
      throw new AssertionError("not freed exactly once: " + wrong + "; bad frees: " + badFrees);
    }
  }

  int calls(String function) {
    return calls.getOrDefault(function, 0);
  }
}
