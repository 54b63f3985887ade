/**
 * The node-local model cache. Start at {@link dev.modelcache.core.ModelCache}.
 */
package dev.modelcache.core;
