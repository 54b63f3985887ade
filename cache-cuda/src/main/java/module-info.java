/** A {@link dev.modelcache.loader.TensorSink} that loads tensors into CUDA device memory. */
module dev.modelcache.cuda {
  requires transitive dev.modelcache.loader;

  exports dev.modelcache.cuda;
}
