package dev.modelcache.common.json;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A JSON object being built for {@link JsonWriter}: its members keep the order in which they were
 * first put, so a document reads the way its format is documented. Not thread-safe.
 */
public final class JsonObject {

  private final Map<String, Object> members = new LinkedHashMap<>();

  private JsonObject() {}

  /** An empty object. */
  public static JsonObject create() {
    return new JsonObject();
  }

  /**
   * Adds {@code key}, or replaces its value where it keeps its first position.
   *
   * @param value anything {@link JsonWriter} writes; checked only when the object is written
   * @return this object
   */
  public JsonObject put(String key, Object value) {
    members.put(java.util.Objects.requireNonNull(key, "key"), value);
    return this;
  }

  /** The value of {@code key}, or null when it is absent or null. */
  public Object get(String key) {
    return members.get(key);
  }

  /** The members in order, as a read-only view. */
  public Map<String, Object> members() {
    return Collections.unmodifiableMap(members);
  }

  /** This object as compact JSON text, as {@link JsonWriter#compact} writes it. */
  @Override
  public String toString() {
    return JsonWriter.compact(this);
  }
}
