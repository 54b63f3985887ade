/**
 * The project's one JSON code: {@link dev.modelcache.common.json.JsonReader}, a strict RFC 8259
 * pull reader whose errors name the offset, and {@link dev.modelcache.common.json.JsonWriter}
 * with its ordered {@link dev.modelcache.common.json.JsonObject}, which writes compact text for
 * programs and a fixed pretty layout for files.
 */
package dev.modelcache.common.json;
