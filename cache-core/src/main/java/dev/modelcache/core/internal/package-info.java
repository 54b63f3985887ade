/**
 * Implementation details that are not exported: the {@code file:} storage backend and its
 * provider, registered with {@link java.util.ServiceLoader}.
 */
package dev.modelcache.core.internal;
