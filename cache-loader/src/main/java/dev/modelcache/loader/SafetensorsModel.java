package dev.modelcache.loader;

import dev.modelcache.common.json.JsonException;
import dev.modelcache.common.json.JsonReader;
import dev.modelcache.loader.SafetensorsFormatException.Rule;
import dev.modelcache.loader.internal.HeaderParser;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * A model made of one or more safetensors files, validated as a whole.
 *
 * <p>{@link #open(Path)} accepts a single {@code .safetensors} file, a directory with a
 * {@value #INDEX_FILE_NAME} index, or a directory of shards without an index (every
 * {@code *.safetensors} file in it, sorted by name). Immutable and thread-safe; it holds no open
 * file.
 */
public final class SafetensorsModel {
  /** The index file name of a sharded model. */
  public static final String INDEX_FILE_NAME = "model.safetensors.index.json";

  private static final long MAX_INDEX_BYTES = 100_000_000L;

  private final Path path;
  private final List<SafetensorsFile> files;
  private final Map<String, TensorInfo> tensors;
  private final OptionalLong indexTotalSizeBytes;

  private SafetensorsModel(
      Path path, List<SafetensorsFile> files, OptionalLong indexTotalSizeBytes) {
    this.path = path;
    this.files = List.copyOf(files);
    Map<String, TensorInfo> map = new LinkedHashMap<>();
    for (SafetensorsFile f : files) {
      for (TensorInfo t : f.tensors()) {
        map.put(t.name(), t);
      }
    }
    this.tensors = Collections.unmodifiableMap(map);
    this.indexTotalSizeBytes = indexTotalSizeBytes;
  }

  /**
   * Opens and validates a model: a file, or a directory with or without an index.
   *
   * <p>With an index, every file the index names must exist inside the directory, every
   * tensor must be in exactly the file the index names, and the shards it names may hold no
   * tensor the index does not list. {@code metadata.total_size} is only reported
   * ({@link #indexTotalSizeBytes()}), never checked: tools fill it inconsistently. Without an
   * index, tensor names must be unique across all shards.
   *
   * @param path a {@code .safetensors} file or a model directory
   * @return the validated model
   * @throws SafetensorsFormatException if a file or the index breaks a rule
   * @throws IOException if a file cannot be read
   */
  public static SafetensorsModel open(Path path) throws IOException {
    Objects.requireNonNull(path, "path");
    if (!Files.isDirectory(path)) {
      return new SafetensorsModel(path, List.of(SafetensorsFile.open(path)), OptionalLong.empty());
    }
    Path index = path.resolve(INDEX_FILE_NAME);
    if (Files.exists(index)) {
      return openIndexed(path, index);
    }
    List<Path> shards = new ArrayList<>();
    try (DirectoryStream<Path> dir = Files.newDirectoryStream(path, "*.safetensors")) {
      for (Path p : dir) {
        if (Files.isRegularFile(p)) {
          shards.add(p);
        }
      }
    }
    if (shards.isEmpty()) {
      throw new SafetensorsFormatException(
          path, null, Rule.NO_SAFETENSORS_FILES, "no *.safetensors file found");
    }
    Collections.sort(shards);
    List<SafetensorsFile> files = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (Path p : shards) {
      SafetensorsFile f = SafetensorsFile.open(p);
      HeaderParser.checkUnique(p, f.tensors(), seen);
      files.add(f);
    }
    return new SafetensorsModel(path, files, OptionalLong.empty());
  }

  private static SafetensorsModel openIndexed(Path dir, Path index) throws IOException {
    if (Files.size(index) > MAX_INDEX_BYTES) {
      throw new SafetensorsFormatException(
          index, null, Rule.INVALID_INDEX, "index larger than " + MAX_INDEX_BYTES + " bytes");
    }
    String text;
    try {
      text = StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(Files.readAllBytes(index)))
          .toString();
    } catch (CharacterCodingException e) {
      throw new SafetensorsFormatException(index, null, Rule.INVALID_INDEX, "not UTF-8: " + e);
    }
    Map<String, String> weightMap = new LinkedHashMap<>();
    long totalSize = -1;
    String currentTensor = null;
    boolean inWeightMap = false;
    try {
      JsonReader json = new JsonReader(text, 64);
      json.beginObject();
      boolean sawWeightMap = false;
      for (String key = json.nextKey(); key != null; key = json.nextKey()) {
        if (key.equals("weight_map")) {
          sawWeightMap = true;
          json.beginObject();
          inWeightMap = true;
          for (String tensor = json.nextKey(); tensor != null; tensor = json.nextKey()) {
            currentTensor = tensor;
            weightMap.put(tensor, json.readString());
            currentTensor = null;
          }
          inWeightMap = false;
        } else if (key.equals("metadata") && json.peek() == JsonReader.ValueKind.OBJECT) {
          json.beginObject();
          for (String m = json.nextKey(); m != null; m = json.nextKey()) {
            if (m.equals("total_size") && json.peek() == JsonReader.ValueKind.NUMBER) {
              totalSize = ((JsonReader.JsonNumber) json.readValue()).asNonNegativeLong();
            } else {
              json.skipValue();
            }
          }
        } else {
          json.skipValue();
        }
      }
      json.endOfText();
      if (!sawWeightMap) {
        throw new SafetensorsFormatException(index, null, Rule.INVALID_INDEX, "no weight_map");
      }
    } catch (JsonException e) {
      boolean duplicateTensor = inWeightMap && e.kind() == JsonException.Kind.DUPLICATE_KEY;
      String tensor = duplicateTensor ? e.key() : currentTensor;
      throw new SafetensorsFormatException(
          index,
          tensor == null ? null : JsonReader.abbreviate(tensor),
          duplicateTensor ? Rule.DUPLICATE_TENSOR : Rule.INVALID_INDEX,
          e.getMessage());
    }
    if (weightMap.isEmpty()) {
      throw new SafetensorsFormatException(
          index, null, Rule.INVALID_INDEX, "the weight_map is empty");
    }
    Map<String, SafetensorsFile> byFileName = new LinkedHashMap<>();
    Path realDir = dir.toRealPath();
    for (Map.Entry<String, String> e : weightMap.entrySet()) {
      String fileName = e.getValue();
      if (byFileName.containsKey(fileName)) {
        continue;
      }
      Path shard = dir.resolve(fileName).normalize();
      if (fileName.isEmpty()
          || !shard.startsWith(dir.normalize())
          || !Files.isRegularFile(shard)
          || !shard.toRealPath().startsWith(realDir)) {
        throw new SafetensorsFormatException(
            index,
            e.getKey(),
            Rule.INDEX_FILE_MISSING,
            "file \"" + JsonReader.abbreviate(fileName) + "\" does not exist in " + dir);
      }
      byFileName.put(fileName, SafetensorsFile.open(shard));
    }
    for (Map.Entry<String, String> e : weightMap.entrySet()) {
      SafetensorsFile f = byFileName.get(e.getValue());
      if (f.tensor(e.getKey()).isEmpty()) {
        throw new SafetensorsFormatException(
            index,
            e.getKey(),
            Rule.INDEX_MISMATCH,
            "the index maps it to " + e.getValue() + " but that file does not hold it");
      }
    }
    Set<String> seen = new HashSet<>();
    for (SafetensorsFile f : byFileName.values()) {
      HeaderParser.checkUnique(f.path(), f.tensors(), seen);
      for (TensorInfo t : f.tensors()) {
        if (!weightMap.containsKey(t.name())) {
          throw new SafetensorsFormatException(
              index,
              t.name(),
              Rule.INDEX_MISMATCH,
              "shard " + f.path().getFileName() + " holds it but the index does not list it");
        }
      }
    }
    return new SafetensorsModel(
        dir,
        new ArrayList<>(byFileName.values()),
        totalSize < 0 ? OptionalLong.empty() : OptionalLong.of(totalSize));
  }

  /** The path the model was opened from (a file or a directory). */
  public Path path() {
    return path;
  }

  /** The model's files, in load order (index order of first mention, or by name). */
  public List<SafetensorsFile> files() {
    return files;
  }

  /** All tensors, file by file in load order, each file's sorted by offset (immutable map). */
  public Map<String, TensorInfo> tensors() {
    return tensors;
  }

  /** The tensor with this name, if the model has it. */
  public Optional<TensorInfo> tensor(String name) {
    return Optional.ofNullable(tensors.get(name));
  }

  /** Total bytes of tensor data over all files. */
  public long dataSizeBytes() {
    long sum = 0;
    for (SafetensorsFile f : files) {
      sum += f.dataSizeBytes();
    }
    return sum;
  }

  /** The index's advisory {@code metadata.total_size}, when present and an exact integer. */
  public OptionalLong indexTotalSizeBytes() {
    return indexTotalSizeBytes;
  }

  /**
   * The {@code __metadata__} of the model's files merged in load order (a later file's value
   * wins for a key several files set).
   */
  public Map<String, String> metadata() {
    Map<String, String> merged = new LinkedHashMap<>();
    for (SafetensorsFile f : files) {
      merged.putAll(f.metadata());
    }
    return Collections.unmodifiableMap(merged);
  }

  @Override
  public String toString() {
    return "SafetensorsModel[" + path + ", " + files.size() + " files, " + tensors.size()
        + " tensors]";
  }
}
