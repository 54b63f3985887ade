package dev.modelcache.cli;

import dev.modelcache.common.json.JsonObject;
import dev.modelcache.core.ModelCache;
import dev.modelcache.core.ModelSource;
import dev.modelcache.core.VerificationResult;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.ParentCommand;

/** {@code modelcache verify SOURCE}: re-read a cached model and compare it with its manifest. */
@Command(
    name = "verify",
    description = {
      "Re-read every file of a cached model and compare sizes and digests with its manifest.",
      "Exits with status 3 if any file differs, naming the files."
    })
final class VerifyCommand implements Callable<Integer> {

  @ParentCommand
  ModelcacheCommand app;

  @Mixin
  SourceArgument source;

  @Override
  public Integer call() throws IOException, UsageException {
    ModelSource model = source.model();
    long start = System.nanoTime();
    VerificationResult result;
    dev.modelcache.core.CacheEntry entry;
    try (ModelCache cache = app.openCache(false, null, null)) {
      result = cache.verify(model);
      entry = cache.getIfPresent(model).orElse(null);
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    List<JsonObject> mismatches = new ArrayList<>();
    for (VerificationResult.Mismatch m : result.mismatches()) {
      mismatches.add(JsonObject.create()
          .put("path", m.path())
          .put("offsetBytes", m.offsetBytes())
          .put("reason", m.reason()));
    }
    String text = String.format(
        Locale.ROOT,
        "%s: %s, %s checked in %.2f s",
        model,
        result.ok() ? "ok" : result.mismatches().size() + " file(s) differ from the manifest",
        ByteSize.format(result.bytesChecked()),
        seconds);
    app.result(
        JsonObject.create()
            .put("source", model.uri().toString())
            .put("revision", model.revision())
            .put("ok", result.ok())
            .put("bytesChecked", result.bytesChecked())
            .put("seconds", seconds)
            .put("mismatches", mismatches)
            .put("integrity", entry == null ? null : PrefetchCommand.integritySummary(entry))
            .put("files", entry == null ? null : PrefetchCommand.files(entry)),
        text);
    if (result.ok()) {
      return ExitCode.OK.status();
    }
    // One line naming every damaged file; the JSON above has the details.
    app.context()
        .err()
        .println("modelcache verify: " + model + " is damaged: "
            + result.mismatches().stream()
                .map(m -> m.path() + " (" + m.reason()
                    + (m.offsetBytes() > 0 ? " at byte " + m.offsetBytes() : "") + ")")
                .collect(Collectors.joining(", ")));
    app.context().err().flush();
    return ExitCode.INVALID_DATA.status();
  }
}
