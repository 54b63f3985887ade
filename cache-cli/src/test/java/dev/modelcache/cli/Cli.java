package dev.modelcache.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Runs the command in-process with captured streams, as a test's view of one invocation. */
final class Cli {

  /**
   * Reads the command's JSON strictly with an independent parser: a duplicate key or anything
   * after the one value fails; integers come back as {@code Long}, other numbers as {@code Double}.
   */
  private static final ObjectMapper JSON = JsonMapper.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .enable(DeserializationFeature.USE_LONG_FOR_INTS)
      .build();

  private final Map<String, String> env = new HashMap<>();
  private boolean terminal;
  private Duration progressInterval = Duration.ofMillis(100);

  /** A command with its cache root set through the environment, as an init container would. */
  static Cli withRoot(Path root) {
    var cli = new Cli();
    cli.env.put(CacheRoot.ENV, root.toString());
    return cli;
  }

  static Cli plain() {
    return new Cli();
  }

  Cli env(String key, String value) {
    env.put(key, value);
    return this;
  }

  Cli terminal(boolean value) {
    terminal = value;
    return this;
  }

  Cli progressInterval(Duration value) {
    progressInterval = value;
    return this;
  }

  Result run(String... args) {
    var out = new ByteArrayOutputStream();
    var err = new ByteArrayOutputStream();
    try (var o = new PrintStream(out, true, StandardCharsets.UTF_8);
        var e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      var context = new CommandContext(o, e, env, terminal, progressInterval);
      int status = Main.run(context, args);
      return new Result(
          status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
  }

  /** {@code text} parsed as one JSON object, its members in order. */
  static Map<String, Object> jsonObject(String text) {
    try {
      return JSON.readValue(text, new TypeReference<LinkedHashMap<String, Object>>() {});
    } catch (JsonProcessingException e) {
      throw new AssertionError("not one JSON object: " + text, e);
    }
  }

  /** What one run left behind. */
  record Result(int exitCode, String stdout, String stderr) {

    Map<String, Object> json() {
      return jsonObject(stdout.strip());
    }

    List<String> stderrLines() {
      return stderr.isEmpty() ? List.of() : List.of(stderr.split("\\R"));
    }

    @Override
    public String toString() {
      return "exit " + exitCode + "\n--- stdout\n" + stdout + "--- stderr\n" + stderr;
    }
  }
}
