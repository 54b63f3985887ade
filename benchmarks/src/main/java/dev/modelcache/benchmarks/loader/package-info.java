/** Benchmarks of the safetensors loader and its peers (MemorySegment.copy, Chronicle Bytes); see loader-bench.sh. */
package dev.modelcache.benchmarks.loader;
