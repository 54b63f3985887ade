/**
 * Strict safetensors validation and fast loading of model weights into pluggable sinks.
 *
 * <p>Entry points: {@link dev.modelcache.loader.SafetensorsModel#open(java.nio.file.Path)} to
 * validate a file or a sharded model, {@link dev.modelcache.loader.Loader#builder()} to load it
 * into a {@link dev.modelcache.loader.TensorSink}, {@link dev.modelcache.loader.MappedModel} for
 * zero-copy views, {@link dev.modelcache.loader.PageCache} to warm or drop cached pages,
 * {@link dev.modelcache.loader.SafetensorsWriter} to write files, and
 * {@link dev.modelcache.loader.ReadThrough} to load through the node cache (it needs
 * {@code cache-core}, an optional dependency of this module), downloading and loading in one pass
 * on a miss. Bad content raises
 * {@link dev.modelcache.loader.SafetensorsFormatException}, naming the file, the tensor and the
 * rule.
 */
package dev.modelcache.loader;
