/** JMH benchmarks and helpers for the comparison scripts. */
package dev.modelcache.benchmarks;
