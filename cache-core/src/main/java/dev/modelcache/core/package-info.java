/**
 * The node-local model cache. Start at {@link dev.modelcache.core.ModelCache}: build one per cache
 * root, {@code ensure} a {@link dev.modelcache.core.ModelSource}, {@code lease} the resulting
 * {@link dev.modelcache.core.CacheEntry} while loading from its directory. Failures are
 * {@link java.io.IOException} subtypes in this package that name the model, file, offset or rule.
 */
package dev.modelcache.core;
