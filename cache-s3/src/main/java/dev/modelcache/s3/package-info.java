/**
 * The {@code s3:} storage backend: lists {@code s3://bucket/prefix/} sources and reads explicit
 * byte ranges of their objects, pinned to the ETag seen at listing. Start at
 * {@link dev.modelcache.s3.S3StorageBackend#builder()}, or let the cache find
 * {@link dev.modelcache.s3.S3BackendProvider} through {@link java.util.ServiceLoader}.
 */
package dev.modelcache.s3;
