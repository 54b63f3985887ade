/** Benchmarks of the safetensors loader and its peers (MemorySegment.copy, Chronicle Bytes); see {@code benchmarks/bench loader}. */
package dev.modelcache.benchmarks.loader;
