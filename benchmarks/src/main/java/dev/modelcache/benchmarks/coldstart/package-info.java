/**
 * The suite run by {@code benchmarks/bench coldstart}: load throughput against model size from the local
 * disk (cold and warm, every read strategy, with fio and Chronicle Bytes as peers), from network
 * storage, and whole cold-start timelines (download then load, load from the cache, streaming
 * straight from the store).
 */
package dev.modelcache.benchmarks.coldstart;
