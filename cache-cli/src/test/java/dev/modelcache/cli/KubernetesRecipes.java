package dev.modelcache.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import picocli.CommandLine;

/**
 * Reads Kubernetes manifests and checks every {@code modelcache} command line in them: that the
 * command's own parser accepts it, and that the pod around it makes sense for a node-local cache
 * (the cache on a hostPath, links and paths on mounted volumes, runtimes that can follow the link).
 */
final class KubernetesRecipes {

  private KubernetesRecipes() {}

  /** A volume mount of a container. */
  record Mount(String volume, String mountPath, boolean readOnly) {}

  /** One {@code modelcache} command line found in a manifest, with the container around it. */
  record Invocation(
      String where,
      String kind,
      boolean init,
      List<String> args,
      Map<String, String> env,
      List<Mount> mounts,
      Map<String, Map<String, Object>> volumes,
      List<Container> podContainers,
      Container container) {

    String subcommand() {
      return args.stream().filter(a -> !a.startsWith("-")).findFirst().orElse("");
    }

    /** modelcache's own arguments: for {@code exec}, those before the {@code --} that starts its command. */
    List<String> ownArgs() {
      int delimiter = args.indexOf("--");
      return subcommand().equals("exec") && delimiter >= 0 ? args.subList(0, delimiter) : args;
    }

    /** The command {@code exec} runs: the words after its {@code --}; empty for other commands. */
    List<String> childCommand() {
      List<String> own = ownArgs();
      return own.size() == args.size() ? List.of() : args.subList(own.size() + 1, args.size());
    }
  }

  /** A container of a pod, as far as the checks need it; its probes by kind ({@code readinessProbe}). */
  record Container(
      String name,
      boolean init,
      List<String> argv,
      List<Mount> mounts,
      Map<String, Probe> probes) {}

  /**
   * A probe of a container, with Kubernetes' defaults where the manifest gives none.
   *
   * @param exec the command of an {@code exec} probe, empty for other kinds
   */
  record Probe(
      List<String> exec, int initialDelaySeconds, int periodSeconds, int failureThreshold) {

    /** How long the probe lets a container fail before it gives up on it. */
    Duration budget() {
      return Duration.ofSeconds(initialDelaySeconds + (long) periodSeconds * failureThreshold);
    }
  }

  /** Every {@code modelcache} invocation in the YAML documents of {@code manifest}. */
  static List<Invocation> invocations(Path manifest) throws IOException {
    try (Reader reader = Files.newBufferedReader(manifest)) {
      return invocations(manifest.getFileName().toString(), reader);
    }
  }

  static List<Invocation> invocations(String name, String yaml) {
    return invocations(name, new StringReader(yaml));
  }

  @SuppressWarnings("unchecked")
  private static List<Invocation> invocations(String name, Reader reader) {
    var yaml = new Yaml(new SafeConstructor(new LoaderOptions()));
    List<Invocation> found = new ArrayList<>();
    for (Object doc : yaml.loadAll(reader)) {
      if (!(doc instanceof Map<?, ?> map)) {
        continue;
      }
      String kind = String.valueOf(map.get("kind"));
      Map<String, Object> spec = (Map<String, Object>) map.get("spec");
      Map<String, Object> podSpec = switch (kind) {
        case "Pod" -> spec;
        case "Deployment", "DaemonSet", "StatefulSet", "Job", "ReplicaSet" ->
          (Map<String, Object>) ((Map<String, Object>) spec.get("template")).get("spec");
        case "CronJob" ->
          (Map<String, Object>) ((Map<String, Object>) ((Map<String, Object>)
                      ((Map<String, Object>) spec.get("jobTemplate")).get("spec"))
                  .get("template"))
              .get("spec");
        default -> null;
      };
      if (podSpec == null) {
        continue;
      }
      String metaName = String.valueOf(((Map<String, Object>) map.get("metadata")).get("name"));
      Map<String, Map<String, Object>> volumes = new LinkedHashMap<>();
      for (Object v : list(podSpec.get("volumes"))) {
        var volume = (Map<String, Object>) v;
        volumes.put(String.valueOf(volume.get("name")), volume);
      }
      List<Container> containers = new ArrayList<>();
      List<Map<String, Object>> raw = new ArrayList<>();
      for (String key : List.of("initContainers", "containers")) {
        for (Object c : list(podSpec.get(key))) {
          var container = (Map<String, Object>) c;
          raw.add(container);
          containers.add(new Container(
              String.valueOf(container.get("name")),
              key.equals("initContainers"),
              argv(container),
              mounts(container),
              probes(container)));
        }
      }
      for (int i = 0; i < containers.size(); i++) {
        Container c = containers.get(i);
        Map<String, Object> container = raw.get(i);
        String where = name + ": " + kind + " " + metaName + ", container " + c.name();
        Map<String, String> env = env(container);
        for (List<String> args : commandLines(c.argv())) {
          found.add(
              new Invocation(where, kind, c.init(), args, env, c.mounts(), volumes, containers, c));
        }
        for (var probe : c.probes().entrySet()) {
          for (List<String> args : commandLines(probe.getValue().exec())) {
            found.add(new Invocation(
                where + " " + probe.getKey(),
                kind,
                c.init(),
                args,
                env,
                c.mounts(),
                volumes,
                containers,
                c));
          }
        }
      }
    }
    return found;
  }

  /** The {@code modelcache} argument lists in a container's command line (directly, or in a {@code sh -c} script). */
  static List<List<String>> commandLines(List<String> argv) {
    List<List<String>> lines = new ArrayList<>();
    if (argv.isEmpty()) {
      return lines;
    }
    if (isModelcache(argv.get(0))) {
      lines.add(List.copyOf(argv.subList(1, argv.size())));
    } else if (argv.size() >= 3
        && argv.get(0).matches("(/bin/|/usr/bin/)?(ba)?sh")
        && argv.get(1).equals("-c")) {
      for (String line : argv.get(2).split("\\R|&&|\\|\\||;")) {
        List<String> words = shellWords(line.strip());
        // Keywords that may stand before a command: 'do modelcache ...', 'then exec modelcache
        // ...'.
        while (!words.isEmpty()
            && List.of("do", "then", "else", "exec", "time", "{", "(").contains(words.get(0))) {
          words = words.subList(1, words.size());
        }
        if (!words.isEmpty() && isModelcache(words.get(0))) {
          lines.add(List.copyOf(words.subList(1, words.size())));
        }
      }
    }
    return lines;
  }

  private static boolean isModelcache(String word) {
    return word.equals("modelcache") || word.endsWith("/modelcache");
  }

  /** Splits a shell command into words: whitespace, single and double quotes, backslash escapes. */
  static List<String> shellWords(String line) {
    List<String> words = new ArrayList<>();
    var word = new StringBuilder();
    boolean inWord = false;
    char quote = 0;
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (quote != 0) {
        if (c == quote) {
          quote = 0;
        } else if (c == '\\' && quote == '"' && i + 1 < line.length()) {
          word.append(line.charAt(++i));
        } else {
          word.append(c);
        }
      } else if (c == '\'' || c == '"') {
        quote = c;
        inWord = true;
      } else if (c == '\\' && i + 1 < line.length()) {
        word.append(line.charAt(++i));
        inWord = true;
      } else if (Character.isWhitespace(c)) {
        if (inWord) {
          words.add(word.toString());
          word.setLength(0);
          inWord = false;
        }
      } else if (c == '#' && !inWord) {
        break;
      } else {
        word.append(c);
        inWord = true;
      }
    }
    if (quote != 0) {
      throw new IllegalArgumentException("unterminated quote in: " + line);
    }
    if (inWord) {
      words.add(word.toString());
    }
    return words;
  }

  /**
   * What is wrong with an invocation: the parser's error, or a cache that is not shared on the
   * node, or a path that no volume holds. Empty when all is well.
   */
  static List<String> problems(Invocation inv) {
    List<String> problems = new ArrayList<>();
    String line = "modelcache " + String.join(" ", inv.args());
    // The command exec runs gets its arguments as they are: a shell it starts may expand them.
    for (String arg : inv.ownArgs()) {
      if (arg.contains("$")) {
        problems.add(
            inv.where() + ": '" + line + "' uses a shell variable, which this check cannot follow");
        return problems;
      }
    }
    var context = new CommandContext(
        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
        inv.env(),
        false,
        Duration.ofSeconds(5));
    var app = new ModelcacheCommand(context);
    CommandLine.ParseResult parsed;
    try {
      parsed = Main.commandLine(app).parseArgs(inv.args().toArray(String[]::new));
    } catch (CommandLine.ParameterException e) {
      problems.add(inv.where() + ": '" + line + "': " + e.getMessage());
      return problems;
    }
    if (!parsed.hasSubcommand()) {
      problems.add(inv.where() + ": '" + line + "' names no command");
      return problems;
    }
    CommandLine.ParseResult sub = parsed.subcommand();
    String command = sub.commandSpec().name();
    if (sub.commandSpec().userObject() instanceof ExecCommand exec) {
      try {
        exec.childCommand();
      } catch (UsageException e) {
        problems.add(inv.where() + ": '" + line + "': " + e.getMessage());
        return problems;
      }
    }
    Path root = CacheRoot.resolve(
        Optional.ofNullable(sub.<Path>matchedOptionValue("--root", null))
            .orElse(parsed.<Path>matchedOptionValue("--root", null)),
        inv.env(),
        true, // the image runs as root
        Path.of("/root"));
    boolean usesCache = !command.equals("inspect")
        && !(List.of("load", "warm").contains(command) && !isSource(sub));
    if (usesCache) {
      Optional<Mount> mount = mountHolding(inv.mounts(), root.toString());
      if (mount.isEmpty()) {
        problems.add(inv.where() + ": '" + line + "': the cache root " + root
            + " is on no volume of the container");
      } else if (hostPath(inv, mount.get()).isEmpty()) {
        problems.add(inv.where() + ": '" + line + "': the cache root " + root
            + " is not on a hostPath volume, so pods on a node would not share it");
      } else if (mount.get().readOnly() && writesTheCache(command, sub)) {
        problems.add(
            inv.where() + ": '" + line + "': the cache root " + root + " is mounted read-only"
                + (List.of("prefetch", "await", "evict").contains(command)
                    ? ""
                    : ", but a lease is a file written under it"));
      }
    }
    Path link = sub.matchedOptionValue("--link", null);
    if (link != null) {
      problems.addAll(linkProblems(inv, line, link, root));
    }
    if (command.equals("exec")) {
      problems.addAll(readinessProblems(inv, line, sub));
    }
    if (List.of("load", "warm", "inspect").contains(command) && !isSource(sub)) {
      String path = sub.matchedPositionalValue(0, "");
      if (mountHolding(inv.mounts(), path).isEmpty()) {
        problems.add(
            inv.where() + ": '" + line + "': " + path + " is on no volume of the container");
      }
    }
    return problems;
  }

  /** Whether a command writes under the cache root: downloads, evictions, and leases (exec, load and warm of a SOURCE). */
  private static boolean writesTheCache(String command, CommandLine.ParseResult sub) {
    return List.of("prefetch", "await", "evict", "exec").contains(command)
        || (List.of("load", "warm").contains(command) && isSource(sub));
  }

  private static boolean isSource(CommandLine.ParseResult sub) {
    String target = sub.matchedPositionalValue(0, "");
    return new ModelArgument(target).isSource();
  }

  /**
   * A ready file means something only if a probe tests it, and a startupProbe that gives up before
   * {@code --wait-timeout} kills the server before exec can say why it is not ready.
   */
  private static List<String> readinessProblems(
      Invocation inv, String line, CommandLine.ParseResult sub) {
    List<String> problems = new ArrayList<>();
    Map<String, Probe> probes = inv.container().probes();
    Path readyFile = sub.matchedOptionValue("--ready-file", null);
    if (readyFile != null) {
      boolean tested = probes.entrySet().stream()
          .filter(p -> List.of("readinessProbe", "startupProbe").contains(p.getKey()))
          .anyMatch(p -> testsFile(p.getValue().exec(), readyFile.toString()));
      if (!tested) {
        problems.add(inv.where() + ": '" + line + "': --ready-file " + readyFile
            + ": no readinessProbe or startupProbe of the container tests it (exec: [test, -f, "
            + readyFile + "])");
      }
    }
    Probe startup = probes.get("startupProbe");
    if (startup != null && !sub.matchedOptionValue("--wait-http", List.of()).isEmpty()) {
      TimeSpan timeout = sub.matchedOptionValue("--wait-timeout", null);
      Duration wait = timeout == null ? ReadinessOptions.DEFAULT_WAIT_TIMEOUT : timeout.duration();
      if (startup.budget().compareTo(wait) < 0) {
        problems.add(inv.where() + ": '" + line + "': the startupProbe gives up after "
            + TimeSpan.format(startup.budget()) + ", before --wait-timeout " + TimeSpan.format(wait)
            + ": the kubelet would kill the server before exec says why");
      }
    }
    return problems;
  }

  /** Whether a probe's command is {@code test -f PATH} (or -e, -s, or {@code [ -f PATH ]}), directly or in {@code sh -c}. */
  static boolean testsFile(List<String> command, String path) {
    List<String> words = command;
    if (command.size() >= 3
        && command.get(0).matches("(/bin/|/usr/bin/)?(ba)?sh")
        && command.get(1).equals("-c")) {
      words = shellWords(command.get(2));
    }
    if (words.size() < 3) {
      return false;
    }
    String test = words.get(0).replaceFirst("^(/usr)?/bin/", "");
    return (test.equals("test") || test.equals("["))
        && List.of("-f", "-e", "-s").contains(words.get(1))
        && Path.of(words.get(2)).normalize().equals(Path.of(path).normalize());
  }

  /** A link must be on a writable volume, and every container that reads it must see the cache at the same path. */
  private static List<String> linkProblems(Invocation inv, String line, Path link, Path root) {
    List<String> problems = new ArrayList<>();
    Optional<Mount> linkMount = mountHolding(inv.mounts(), link.toString());
    if (linkMount.isEmpty() || linkMount.get().readOnly()) {
      problems.add(inv.where() + ": '" + line + "': --link " + link
          + " is on no writable volume of the container");
      return problems;
    }
    Mount cacheMount = mountHolding(inv.mounts(), root.toString()).orElse(null);
    for (Container other : inv.podContainers()) {
      boolean seesLink = other.mounts().stream()
          .anyMatch(m -> m.volume().equals(linkMount.get().volume()));
      if (!seesLink || cacheMount == null) {
        continue;
      }
      boolean seesCache = other.mounts().stream()
          .anyMatch(m -> m.volume().equals(cacheMount.volume())
              && m.mountPath().equals(cacheMount.mountPath()));
      if (!seesCache) {
        problems.add(inv.where() + ": container " + other.name() + " mounts the link volume "
            + linkMount.get().volume() + " but not the cache at " + cacheMount.mountPath()
            + ", so the link " + link + " dangles there");
      }
    }
    return problems;
  }

  private static Optional<Map<String, Object>> hostPath(Invocation inv, Mount mount) {
    Map<String, Object> volume = inv.volumes().get(mount.volume());
    if (volume != null && volume.get("hostPath") instanceof Map<?, ?> hp) {
      @SuppressWarnings("unchecked")
      Map<String, Object> typed = (Map<String, Object>) hp;
      return Optional.of(typed);
    }
    return Optional.empty();
  }

  /** The mount whose path holds {@code path}, the deepest if several do. */
  static Optional<Mount> mountHolding(List<Mount> mounts, String path) {
    Path p = Path.of(path).normalize();
    return mounts.stream()
        .filter(m -> p.startsWith(Path.of(m.mountPath()).normalize()))
        .max(java.util.Comparator.comparingInt(m -> Path.of(m.mountPath()).getNameCount()));
  }

  @SuppressWarnings("unchecked")
  private static List<Mount> mounts(Map<String, Object> container) {
    List<Mount> mounts = new ArrayList<>();
    for (Object m : list(container.get("volumeMounts"))) {
      var mount = (Map<String, Object>) m;
      mounts.add(new Mount(
          String.valueOf(mount.get("name")),
          String.valueOf(mount.get("mountPath")),
          Boolean.TRUE.equals(mount.get("readOnly"))));
    }
    return mounts;
  }

  private static Map<String, Probe> probes(Map<String, Object> container) {
    Map<String, Probe> probes = new LinkedHashMap<>();
    for (String kind : List.of("readinessProbe", "livenessProbe", "startupProbe")) {
      if (container.get(kind) instanceof Map<?, ?> p) {
        List<String> exec =
            p.get("exec") instanceof Map<?, ?> e ? strings(e.get("command")) : List.of();
        probes.put(
            kind,
            new Probe(
                exec,
                number(p.get("initialDelaySeconds"), 0),
                number(p.get("periodSeconds"), 10),
                number(p.get("failureThreshold"), 3)));
      }
    }
    return probes;
  }

  private static int number(Object value, int orElse) {
    return value instanceof Number n ? n.intValue() : orElse;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, String> env(Map<String, Object> container) {
    Map<String, String> env = new LinkedHashMap<>();
    for (Object e : list(container.get("env"))) {
      var entry = (Map<String, Object>) e;
      if (entry.get("value") != null) {
        env.put(String.valueOf(entry.get("name")), String.valueOf(entry.get("value")));
      }
    }
    return env;
  }

  private static List<String> argv(Map<String, Object> container) {
    List<String> argv = new ArrayList<>(strings(container.get("command")));
    if (argv.isEmpty() && String.valueOf(container.get("image")).contains("/modelcache:")) {
      argv.add("modelcache"); // the image's entrypoint
    }
    argv.addAll(strings(container.get("args")));
    return argv;
  }

  private static List<String> strings(Object value) {
    return list(value).stream().map(o -> Objects.toString(o, "")).toList();
  }

  private static List<?> list(Object value) {
    return value instanceof List<?> l ? l : List.of();
  }
}
