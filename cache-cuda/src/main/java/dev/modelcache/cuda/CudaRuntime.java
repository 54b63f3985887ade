package dev.modelcache.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link DeviceRuntime} on the CUDA runtime library, bound with {@code java.lang.foreign}.
 *
 * <p>The library is looked up by name ({@code libcudart.so}, then {@code libcudart.so.13} and
 * {@code libcudart.so.12}, through the dynamic linker's search path), then in
 * {@code /usr/local/cuda/lib64}. It is bound once per process and never unloaded.
 */
final class CudaRuntime implements DeviceRuntime {
  /** Names tried with the dynamic linker's search path, in order. */
  static final List<String> LIBRARY_NAMES =
      List.of("libcudart.so", "libcudart.so.13", "libcudart.so.12");
  /** The toolkit's default location, tried after the names. */
  static final Path TOOLKIT_LIB = Path.of("/usr/local/cuda/lib64");

  private static final int MEMCPY_HOST_TO_DEVICE = 1;
  private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
  private static final ValueLayout.OfLong SIZE_T = ValueLayout.JAVA_LONG;
  private static final java.lang.foreign.AddressLayout PTR = ValueLayout.ADDRESS;

  private static volatile CudaRuntime bound;

  private final String description;
  private final MethodHandle getDeviceCount;
  private final MethodHandle setDevice;
  private final MethodHandle malloc;
  private final MethodHandle free;
  private final MethodHandle hostAlloc;
  private final MethodHandle freeHost;
  private final MethodHandle streamCreate;
  private final MethodHandle streamDestroy;
  private final MethodHandle memcpyAsync;
  private final MethodHandle streamSynchronize;
  private final MethodHandle getErrorString;

  private CudaRuntime(String library, SymbolLookup lib) throws CudaUnavailableException {
    Linker linker = Linker.nativeLinker();
    getDeviceCount =
        bind(linker, lib, library, "cudaGetDeviceCount", FunctionDescriptor.of(INT, PTR));
    setDevice = bind(linker, lib, library, "cudaSetDevice", FunctionDescriptor.of(INT, INT));
    malloc = bind(linker, lib, library, "cudaMalloc", FunctionDescriptor.of(INT, PTR, SIZE_T));
    free = bind(linker, lib, library, "cudaFree", FunctionDescriptor.of(INT, PTR));
    hostAlloc =
        bind(linker, lib, library, "cudaHostAlloc", FunctionDescriptor.of(INT, PTR, SIZE_T, INT));
    freeHost = bind(linker, lib, library, "cudaFreeHost", FunctionDescriptor.of(INT, PTR));
    streamCreate = bind(linker, lib, library, "cudaStreamCreate", FunctionDescriptor.of(INT, PTR));
    streamDestroy =
        bind(linker, lib, library, "cudaStreamDestroy", FunctionDescriptor.of(INT, PTR));
    memcpyAsync = bind(
        linker,
        lib,
        library,
        "cudaMemcpyAsync",
        FunctionDescriptor.of(INT, PTR, PTR, SIZE_T, INT, PTR));
    streamSynchronize =
        bind(linker, lib, library, "cudaStreamSynchronize", FunctionDescriptor.of(INT, PTR));
    getErrorString =
        bind(linker, lib, library, "cudaGetErrorString", FunctionDescriptor.of(PTR, INT));
    MethodHandle version =
        bind(linker, lib, library, "cudaRuntimeGetVersion", FunctionDescriptor.of(INT, PTR));
    String v = "unknown version";
    try (Arena a = Arena.ofConfined()) {
      MemorySegment out = a.allocate(INT);
      if ((int) version.invokeExact(out) == SUCCESS) {
        int n = out.get(INT, 0);
        v = "runtime " + n / 1000 + "." + n % 1000 / 10;
      }
    } catch (Throwable t) {
      throw rethrow(t);
    }
    description = library + ", " + v;
  }

  /**
   * The process's binding of the CUDA runtime, made on first use.
   *
   * @throws CudaUnavailableException if native access is not granted to this module or no
   *     usable {@code libcudart} is found
   */
  static CudaRuntime load() throws CudaUnavailableException {
    CudaRuntime r = bound;
    if (r != null) {
      return r;
    }
    synchronized (CudaRuntime.class) {
      if (bound == null) {
        bound = bind();
      }
      return bound;
    }
  }

  /** The flag that grants this module native access, as it is deployed. */
  static String enableFlag() {
    Module m = CudaRuntime.class.getModule();
    return "--enable-native-access=" + (m.isNamed() ? m.getName() : "ALL-UNNAMED");
  }

  @SuppressWarnings("restricted") // only reached when native access is enabled
  private static CudaRuntime bind() throws CudaUnavailableException {
    if (!CudaRuntime.class.getModule().isNativeAccessEnabled()) {
      throw new CudaUnavailableException(
          CudaUnavailableException.Reason.NO_NATIVE_ACCESS,
          "native access is not enabled, so the CUDA runtime cannot be called; start the JVM with "
              + enableFlag(),
          null);
    }
    List<String> tried = new ArrayList<>();
    for (String name : LIBRARY_NAMES) {
      tried.add(name);
      try {
        return new CudaRuntime(name, SymbolLookup.libraryLookup(name, Arena.global()));
      } catch (IllegalArgumentException notFound) {
        // not on the search path: try the next name
      }
    }
    for (String name : LIBRARY_NAMES) {
      Path p = TOOLKIT_LIB.resolve(name);
      tried.add(p.toString());
      if (Files.exists(p)) {
        try {
          return new CudaRuntime(p.toString(), SymbolLookup.libraryLookup(p, Arena.global()));
        } catch (IllegalArgumentException notLoadable) {
          // present but not loadable (wrong architecture): try the next one
        }
      }
    }
    throw new CudaUnavailableException(
        CudaUnavailableException.Reason.NO_LIBRARY,
        "no CUDA runtime library found (tried " + String.join(", ", tried)
            + "); install the CUDA runtime or add its directory to LD_LIBRARY_PATH",
        null);
  }

  @SuppressWarnings("restricted") // only reached from bind(), after the native-access check
  private static MethodHandle bind(
      Linker linker, SymbolLookup lib, String library, String name, FunctionDescriptor fd)
      throws CudaUnavailableException {
    MemorySegment symbol = lib.find(name)
        .orElseThrow(() -> new CudaUnavailableException(
            CudaUnavailableException.Reason.NO_LIBRARY,
            library + " has no function " + name,
            null));
    return linker.downcallHandle(symbol, fd);
  }

  @Override
  public String description() {
    return description;
  }

  @Override
  public int getDeviceCount(int[] count) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment out = a.allocate(INT);
      int rc = (int) getDeviceCount.invokeExact(out);
      count[0] = rc == SUCCESS ? out.get(INT, 0) : 0;
      return rc;
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  @Override
  public int setDevice(int device) {
    try {
      return (int) setDevice.invokeExact(device);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  @Override
  public int malloc(long[] devicePointer, long byteSize) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment out = a.allocate(PTR);
      int rc = (int) malloc.invokeExact(out, byteSize);
      devicePointer[0] = rc == SUCCESS ? out.get(PTR, 0).address() : 0;
      return rc;
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  @Override
  public int free(long devicePointer) {
    try {
      return (int) free.invokeExact(MemorySegment.ofAddress(devicePointer));
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  @Override
  @SuppressWarnings("restricted") // the binding exists only with native access
  public int hostAlloc(MemorySegment[] host, long byteSize) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment out = a.allocate(PTR);
      int rc = (int) hostAlloc.invokeExact(out, byteSize, 0); // cudaHostAllocDefault
      host[0] = rc == SUCCESS ? out.get(PTR, 0).reinterpret(byteSize) : null;
      return rc;
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  @Override
  public int freeHost(MemorySegment host) {
    try {
      return (int) freeHost.invokeExact(host);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  @Override
  public int streamCreate(long[] stream) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment out = a.allocate(PTR);
      int rc = (int) streamCreate.invokeExact(out);
      stream[0] = rc == SUCCESS ? out.get(PTR, 0).address() : 0;
      return rc;
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  @Override
  public int streamDestroy(long stream) {
    try {
      return (int) streamDestroy.invokeExact(MemorySegment.ofAddress(stream));
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  @Override
  public int memcpyHostToDeviceAsync(long devicePointer, MemorySegment src, long stream) {
    try {
      return (int) memcpyAsync.invokeExact(
          MemorySegment.ofAddress(devicePointer),
          src,
          src.byteSize(),
          MEMCPY_HOST_TO_DEVICE,
          MemorySegment.ofAddress(stream));
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  @Override
  public int streamSynchronize(long stream) {
    try {
      return (int) streamSynchronize.invokeExact(MemorySegment.ofAddress(stream));
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  @Override
  @SuppressWarnings("restricted") // the binding exists only with native access
  public String getErrorString(int error) {
    try {
      MemorySegment s = (MemorySegment) getErrorString.invokeExact(error);
      return s.equals(MemorySegment.NULL)
          ? "unknown CUDA error"
          : s.reinterpret(4096).getString(0);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  private static RuntimeException rethrow(Throwable t) {
    if (t instanceof RuntimeException r) {
      return r;
    }
    if (t instanceof Error e) {
      throw e;
    }
    return new IllegalStateException("unexpected checked exception from a CUDA call", t);
  }
}
