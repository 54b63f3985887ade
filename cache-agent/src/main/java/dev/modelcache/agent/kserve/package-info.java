/**
 * KServe's {@code serving.kserve.io/v1alpha1} local model cache API, as the KServe controller
 * publishes it: {@link dev.modelcache.agent.kserve.LocalModelCache} (a model to keep on a group of
 * nodes), {@link dev.modelcache.agent.kserve.LocalModelNodeGroup} (the nodes and their storage,
 * with {@code storageLimit}) and {@link dev.modelcache.agent.kserve.LocalModelNode} (what one node
 * must hold, and the state of each model there). Field names, JSON names and enum values are
 * KServe's; fields this agent does not use are kept so that nothing is lost when an object is
 * read and written back.
 */
package dev.modelcache.agent.kserve;
