package dev.modelcache.core;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The messages one class logs while a test runs, at every level: {@link System.Logger} of library
 * code goes to {@code java.util.logging} when no other backend is installed, as in these tests.
 */
final class LogCapture implements AutoCloseable {

  private final Logger logger;
  private final Level previous;
  private final List<String> lines = new CopyOnWriteArrayList<>();
  private final Handler handler = new Handler() {
    @Override
    public void publish(LogRecord record) {
      lines.add(record.getLevel() + " " + record.getMessage());
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  };

  private LogCapture(Class<?> source) {
    logger = Logger.getLogger(source.getName());
    previous = logger.getLevel();
    handler.setLevel(Level.ALL);
    logger.setLevel(Level.ALL);
    logger.addHandler(handler);
  }

  static LogCapture of(Class<?> source) {
    return new LogCapture(source);
  }

  /** Every message so far, each as "LEVEL message" (JUL's levels: SEVERE, WARNING, INFO, FINE). */
  List<String> lines() {
    return List.copyOf(lines);
  }

  @Override
  public void close() {
    logger.removeHandler(handler);
    logger.setLevel(previous);
  }
}
