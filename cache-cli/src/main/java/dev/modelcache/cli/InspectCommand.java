package dev.modelcache.cli;

import dev.modelcache.common.json.JsonObject;
import dev.modelcache.loader.DigestTensorSink;
import dev.modelcache.loader.Loader;
import dev.modelcache.loader.ReadStrategy;
import dev.modelcache.loader.SafetensorsModel;
import dev.modelcache.loader.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code modelcache inspect PATH [--hash sha256]}: validate a safetensors model and list its tensors. */
@Command(
    name = "inspect",
    description = {
      "Validate a safetensors file or a sharded model directory and list its tensors.",
      "Invalid input exits with status 3 and names the file, tensor and rule broken."
    })
final class InspectCommand implements Callable<Integer> {

  /** Digests {@code --hash} can compute over each tensor's bytes. */
  enum HashAlgorithm {
    sha256
  }

  @ParentCommand
  ModelcacheCommand app;

  @Parameters(
      paramLabel = "PATH",
      description =
          "A .safetensors file, or a directory of shards (with or without model.safetensors.index.json).")
  String path;

  @Option(
      names = "--hash",
      paramLabel = "ALGORITHM",
      description = "Also compute each tensor's digest: ${COMPLETION-CANDIDATES}.")
  HashAlgorithm hash;

  @Override
  public Integer call() throws IOException, UsageException {
    Path target = new ModelArgument(path).existingPath();
    SafetensorsModel model = SafetensorsModel.open(target);
    Map<String, String> digests = hash == null ? Map.of() : sha256(model);
    Path base = Files.isDirectory(target) ? target : target.toAbsolutePath().getParent();

    List<JsonObject> tensors = new ArrayList<>();
    var table = hash == null
        ? new TextTable("NAME", "DTYPE", "SHAPE", "FILE", ">BEGIN", ">END")
        : new TextTable("NAME", "DTYPE", "SHAPE", "FILE", ">BEGIN", ">END", "SHA256");
    for (TensorInfo t : model.tensors().values()) {
      String file = base.relativize(t.file().toAbsolutePath()).toString();
      tensors.add(JsonObject.create()
          .put("name", t.name())
          .put("dtype", t.dtype().name())
          .put("shape", t.shape())
          .put("file", file)
          .put("dataOffsets", new long[] {t.dataBegin(), t.dataEnd()})
          .put("sha256", digests.get(t.name())));
      String shape = java.util.Arrays.toString(t.shape());
      if (hash == null) {
        table.row(t.name(), t.dtype().name(), shape, file, t.dataBegin(), t.dataEnd());
      } else {
        table.row(
            t.name(),
            t.dtype().name(),
            shape,
            file,
            t.dataBegin(),
            t.dataEnd(),
            digests.get(t.name()));
      }
    }
    String summary = String.format(
        java.util.Locale.ROOT,
        "%s: valid safetensors, %d tensors in %d file%s, %s of tensor data",
        target,
        model.tensors().size(),
        model.files().size(),
        model.files().size() == 1 ? "" : "s",
        ByteSize.format(model.dataSizeBytes()));
    app.result(
        JsonObject.create().put("tensors", tensors), summary + System.lineSeparator() + table);
    return ExitCode.OK.status();
  }

  /** Digests every tensor through the loader itself, so the bytes hashed are the bytes a load delivers. */
  private Map<String, String> sha256(SafetensorsModel model) throws IOException {
    DigestTensorSink sink = DigestTensorSink.of(DigestTensorSink.Algorithm.SHA_256);
    try (Progress progress = app.progress("hash", model.dataSizeBytes())) {
      Loader.builder()
          .strategy(ReadStrategy.BUFFERED)
          .build()
          .load(model, new CountingSink(sink, progress));
    }
    return sink.digests();
  }
}
