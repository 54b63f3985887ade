/**
 * The node agent ({@link dev.modelcache.agent.NodeAgent}, {@code modelcache agent}): reconciles
 * KServe's {@code LocalModelNode} spec for this node, or a file of models, into the node's cache.
 */
package dev.modelcache.agent;
