package dev.modelcache.cli;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Queue;
import java.util.function.Consumer;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * While it is open, the signals that ask a process to stop (SIGTERM, SIGINT, SIGHUP) no longer
 * stop this JVM: they are sent on to a child process, and this process waits for the child.
 *
 * <p>A signal is sent with {@code kill(2)} through {@code java.lang.foreign}, so the child gets the
 * same signal. Where native access is not enabled, or the call fails, the child gets SIGTERM
 * through {@link Process#destroy()} instead. A signal that arrives before the child is known is
 * kept and sent as soon as it is. SIGQUIT stays the JVM's (a thread dump).
 *
 * <p>A SIGTERM or SIGINT also counts as a request to stop ({@link #stopRequested()}), and a
 * listener ({@link #beforeForwarding}) sees every signal before the child does.
 */
final class SignalForwarder implements AutoCloseable {

  private static final System.Logger LOG = System.getLogger(SignalForwarder.class.getName());

  /** The signals forwarded, by the names {@link Signal} knows them by. */
  static final List<String> FORWARDED = List.of("TERM", "INT", "HUP");

  private static final MethodHandle KILL = bindKill();

  private final Object lock = new Object();
  private final Map<Signal, SignalHandler> previous = new LinkedHashMap<>();
  private final Queue<Signal> pending = new ArrayDeque<>();
  private Process child;
  private Consumer<String> listener = name -> {};
  private volatile boolean stopRequested;

  private SignalForwarder() {}

  /** Takes over {@link #FORWARDED} until {@link #close()}; signals are kept until {@link #forwardTo}. */
  static SignalForwarder install() {
    var forwarder = new SignalForwarder();
    for (String name : FORWARDED) {
      try {
        Signal signal = new Signal(name);
        forwarder.previous.put(signal, Signal.handle(signal, forwarder::received));
      } catch (IllegalArgumentException e) {
        // The JVM keeps some signals for itself (with -Xrs, or on another OS): they stay as they
        // were.
        LOG.log(
            System.Logger.Level.WARNING,
            "SIG" + name + " is not forwarded to the command: " + e.getMessage());
      }
    }
    return forwarder;
  }

  /** Sends every signal received so far, and from now on every new one, to {@code process}. */
  void forwardTo(Process process) {
    synchronized (lock) {
      child = process;
      Signal s;
      while ((s = pending.poll()) != null) {
        send(process, s);
      }
    }
  }

  /**
   * Runs {@code action} with a signal's name ({@code "TERM"}) when the signal arrives, before it is
   * sent on: whatever it withdraws is gone before the child hears of the signal.
   */
  void beforeForwarding(Consumer<String> action) {
    synchronized (lock) {
      listener = action;
    }
  }

  /** Whether a SIGTERM or SIGINT has arrived: someone wants the child, and with it this process, to stop. */
  boolean stopRequested() {
    return stopRequested;
  }

  private void received(Signal signal) {
    if (!signal.getName().equals("HUP")) {
      stopRequested = true;
    }
    synchronized (lock) {
      try {
        listener.accept(signal.getName());
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "while handling SIG" + signal.getName() + ": " + e);
      }
      if (child == null) {
        pending.add(signal);
      } else {
        send(child, signal);
      }
    }
  }

  private static void send(Process process, Signal signal) {
    if (!process.isAlive()) {
      return; // it exited (and may have been reaped): its pid may belong to another process by now
    }
    if (KILL != null) {
      try {
        int rc = (int) KILL.invokeExact((int) process.pid(), signal.getNumber());
        if (rc == 0) {
          return;
        }
      } catch (Throwable t) {
        LOG.log(
            System.Logger.Level.DEBUG,
            () -> "kill(" + process.pid() + ", SIG" + signal.getName() + ") failed: " + t);
      }
    }
    process.destroy(); // SIGTERM
  }

  /** Gives the signals back to the handlers they had before {@link #install()}. */
  @Override
  public void close() {
    synchronized (lock) {
      previous.forEach(Signal::handle);
      previous.clear();
      pending.clear();
    }
  }

  /** {@code int kill(pid_t, int)} from the C library, or null where it cannot be called. */
  @SuppressWarnings("restricted") // guarded: only bound when native access is enabled
  private static MethodHandle bindKill() {
    if (System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("windows")
        || !SignalForwarder.class.getModule().isNativeAccessEnabled()) {
      return null;
    }
    try {
      Linker linker = Linker.nativeLinker();
      return linker.downcallHandle(
          linker.defaultLookup().findOrThrow("kill"),
          FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    } catch (RuntimeException e) {
      LOG.log(
          System.Logger.Level.DEBUG,
          () -> "kill(2) could not be bound; signals reach the command as SIGTERM: " + e);
      return null;
    }
  }
}
