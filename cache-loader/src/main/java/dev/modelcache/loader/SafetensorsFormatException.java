package dev.modelcache.loader;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * A safetensors file, or a sharded model's index, breaks a rule of the format.
 *
 * <p>This is the only exception the parser throws for bad content: whatever the bytes, opening a
 * file either succeeds or fails with this type (or another {@link IOException} for I/O failures
 * such as a missing file). The message names the file, the tensor (when the rule concerns one)
 * and the {@link Rule}; the accessors give each part to programs.
 */
public final class SafetensorsFormatException extends IOException {
  private static final long serialVersionUID = 1L;

  /** The rules a safetensors file or index can break. */
  public enum Rule {
    /** The file is shorter than the 8-byte header length. */
    FILE_TOO_SHORT("the file has at least 8 bytes"),
    /** The header length N exceeds 100,000,000. */
    HEADER_TOO_LARGE("the header length is at most 100000000 bytes"),
    /** 8 + N is beyond the end of the file. */
    HEADER_BEYOND_FILE("the header fits in the file"),
    /** The header bytes are not valid UTF-8. */
    HEADER_NOT_UTF8("the header is valid UTF-8"),
    /** The header does not start with '{'. */
    HEADER_NOT_OBJECT("the header starts with '{' and is a JSON object"),
    /** The header is not well-formed JSON (syntax, nesting depth, content after the object). */
    INVALID_JSON("the header is well-formed JSON, padded only with whitespace"),
    /** A JSON object has the same key twice. */
    DUPLICATE_KEY("JSON objects have unique keys"),
    /** A tensor name appears twice (in one file or across the shards of a model). */
    DUPLICATE_TENSOR("tensor names are unique"),
    /** {@code __metadata__} is not an object of string values. */
    INVALID_METADATA("__metadata__ maps strings to strings"),
    /** A tensor entry is not an object, lacks a field, or has an unknown one. */
    INVALID_TENSOR_ENTRY("a tensor entry is an object with exactly dtype, shape and data_offsets"),
    /** The dtype is not one of the known names. */
    UNKNOWN_DTYPE("the dtype is a known type"),
    /** The shape is not an array of non-negative integers (at most 1024 of them). */
    INVALID_SHAPE("the shape is an array of at most 1024 non-negative integers"),
    /** data_offsets is not an array of exactly two non-negative integers. */
    INVALID_DATA_OFFSETS("data_offsets is an array of exactly two non-negative integers"),
    /** data_offsets end is before begin. */
    OFFSETS_REVERSED("data_offsets end is not before begin"),
    /** The element count or bit count overflows 64 bits. */
    ELEMENT_COUNT_OVERFLOW("the element count fits in 64 bits"),
    /** Elements times bits is not a whole number of bytes. */
    PARTIAL_BYTES("the tensor's bits make whole bytes"),
    /** end - begin differs from the size the dtype and shape give. */
    SIZE_MISMATCH("end - begin equals the size given by dtype and shape"),
    /** Sorted by offset, a tensor does not start where the previous one ended. */
    DATA_NOT_TILED("sorted by offset, tensors tile the data section with no gap or overlap"),
    /** The tensors end before the end of the file. */
    TRAILING_BYTES("the last tensor ends at the end of the file"),
    /** A tensor ends beyond the end of the file. */
    DATA_TRUNCATED("every tensor lies within the file"),
    /** The sharded model's index is not a valid object with a string-to-string weight_map. */
    INVALID_INDEX("the index is a JSON object whose weight_map maps tensor names to file names"),
    /** The index names a file that does not exist or lies outside the model directory. */
    INDEX_FILE_MISSING("every file the index names exists in the model directory"),
    /** A tensor of the index is not in the file the index names, or a shard holds an unmapped tensor. */
    INDEX_MISMATCH("every tensor is found exactly once, in the file the index names"),
    /** A directory holds no safetensors file. */
    NO_SAFETENSORS_FILES("a model directory holds at least one .safetensors file");

    private final String description;

    Rule(String description) {
      this.description = description;
    }

    /** The rule in words, as it appears in messages. */
    public String description() {
      return description;
    }
  }

  private final transient Path file;
  private final String tensor;
  private final Rule rule;

  /**
   * @param file the file that breaks the rule
   * @param tensor the tensor concerned, or {@code null} when the rule is about the file
   * @param rule the rule broken
   * @param detail what was found, for the message
   */
  public SafetensorsFormatException(Path file, String tensor, Rule rule, String detail) {
    super(message(file, tensor, rule, detail));
    this.file = file;
    this.tensor = tensor;
    this.rule = rule;
  }

  private static String message(Path file, String tensor, Rule rule, String detail) {
    String where = tensor == null
        ? "header"
        : "tensor '" + (tensor.length() <= 80 ? tensor : tensor.substring(0, 77) + "...") + "'";
    return String.format(
        Locale.ROOT,
        "%s: %s: rule %s (%s) broken: %s",
        file,
        where,
        rule.name(),
        rule.description(),
        detail);
  }

  /** The file that breaks the rule (a shard, or the index of a sharded model). */
  public Path file() {
    return file;
  }

  /** The tensor concerned, or empty when the rule concerns the file as a whole. */
  public Optional<String> tensor() {
    return Optional.ofNullable(tensor);
  }

  /** The rule broken. */
  public Rule rule() {
    return rule;
  }
}
