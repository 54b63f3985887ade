package dev.modelcache.s3;

import dev.modelcache.core.InvalidObjectKeyException;
import dev.modelcache.core.ObjectChangedException;
import dev.modelcache.core.SourceNotFoundException;
import dev.modelcache.core.StorageException;
import dev.modelcache.core.spi.RangeStream;
import dev.modelcache.core.spi.RemoteObject;
import dev.modelcache.core.spi.StorageBackend;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;

/**
 * The {@code s3:} storage backend: lists {@code s3://bucket/prefix/} and reads explicit byte ranges
 * of objects, on the AWS SDK for Java v2 with the Apache 5 HTTP client.
 *
 * <h2>Configuration</h2>
 * Everything has an AWS-conventional default; see {@link Builder}. Credentials come from the SDK's
 * default chain (environment, system properties, web identity / IRSA, profiles, container and
 * instance metadata) unless given; the region from the SDK's default chain, falling back to
 * {@value #FALLBACK_REGION}; the endpoint from {@code AWS_ENDPOINT_URL_S3}, then
 * {@code AWS_ENDPOINT_URL}, unless given. Credentials never appear in messages or {@link
 * #toString()}.
 *
 * <h2>Listing</h2>
 * {@code ListObjectsV2}, page by page, then one {@code HEAD} per object (a few at a time) for its
 * current ETag, version id, encryption and additional checksums: the ETag of an SSE-KMS object or
 * of a multipart upload is not an MD5, and only {@code HEAD} tells. Keys that end in {@code /} and
 * are empty are "directory markers" made by consoles and tools; they hold no data and are skipped.
 *
 * <h2>Reads</h2>
 * One {@code GET} with {@code Range: bytes=a-b} per call (never suffix ranges or part numbers),
 * with {@code If-Match} on the listed ETag and the listed version id when there is one. The
 * answer's status, {@code Content-Range}, {@code Content-Length}, ETag and the number of bytes
 * actually received are all checked. Memory: the body goes straight into the caller's buffer
 * (through one 256 KiB array per reading thread when the buffer is direct); the backend holds no
 * data of its own.
 *
 * <h2>Retries</h2>
 * {@link #read} does not retry: the SDK's retries are off for reads, and failures are classified
 * so that the cache's download engine, which owns backoff and the retry budget for every backend,
 * retries them once, not twice over. Throttling (503 SlowDown, 429), server errors, resets,
 * timeouts and truncated bodies are retryable {@link StorageException}s; 403, 404 and a changed
 * object are not. Listing and {@code HEAD} keep the SDK's standard retries (3 attempts), since
 * the engine does not retry a listing.
 *
 * <h2>Thread safety and closing</h2>
 * Thread-safe. {@link #close()} releases the connection pool and is idempotent; calls after it
 * fail with a {@link StorageException}, and reads in flight fail.
 */
public final class S3StorageBackend implements StorageBackend {

  /** The region used when none is configured anywhere. */
  public static final String FALLBACK_REGION = "us-east-1";

  /** Default size of the connection pool; the engine's concurrency should not exceed it. */
  public static final int DEFAULT_MAX_CONNECTIONS = 64;

  /** Default time allowed to open a TCP connection. */
  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);

  /** Default time a read may wait for the next bytes of a response before it fails. */
  public static final Duration DEFAULT_READ_TIMEOUT = Duration.ofSeconds(30);

  /** Default number of keys asked for per {@code ListObjectsV2} page (the S3 maximum). */
  public static final int DEFAULT_LIST_PAGE_SIZE = 1000;

  // S3Clients owns the SDK's resources; S3Listing and RangedGet use its clients and own nothing.
  private final S3Clients clients;
  private final S3Listing listing;
  private final RangedGet reads;
  private final AtomicBoolean closed = new AtomicBoolean();

  private S3StorageBackend(S3Clients clients, int listPageSize) {
    this.clients = clients;
    this.listing = new S3Listing(clients.control(), clients.credentialsSource(), listPageSize);
    this.reads = new RangedGet(clients.data(), clients.credentialsSource());
  }

  /** A builder with every setting at its default. */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public String scheme() {
    return "s3";
  }

  /**
   * {@inheritDoc}
   *
   * <p>{@code source} is {@code s3://bucket/prefix}; the prefix is taken as a directory (a
   * trailing {@code /} is added), and may be empty for a whole bucket.
   *
   * @throws SourceNotFoundException if the bucket does not exist (naming it) or nothing lies
   *     under the prefix (naming bucket and prefix)
   * @throws dev.modelcache.core.SourceAccessDeniedException on HTTP 403
   * @throws InvalidObjectKeyException if a key cannot be a safe relative path, or is both a file
   *     and a directory of another key
   * @throws IllegalArgumentException if {@code source} is not an {@code s3://bucket/...} URI
   */
  @Override
  public List<RemoteObject> list(URI source) throws IOException {
    ensureOpen();
    return listing.list(S3Location.ofSource(source));
  }

  /**
   * {@inheritDoc}
   *
   * <p>On failure {@code dst}'s position is left where it was, so the same buffer can be passed to
   * a retry.
   *
   * @throws ObjectChangedException if the object no longer has the listed ETag, version or size
   *     (HTTP 412, HTTP 416 for a range inside the listed size, or a different ETag or total length
   *     in the answer)
   * @throws SourceNotFoundException if the bucket or object is gone (naming them)
   * @throws dev.modelcache.core.SourceAccessDeniedException on HTTP 403
   * @throws StorageException retryable for throttling, 5xx, resets, timeouts and short bodies
   * @throws IllegalArgumentException if the range lies outside the listed object
   */
  @Override
  public void read(RemoteObject object, long offsetBytes, ByteBuffer dst) throws IOException {
    Objects.requireNonNull(object, "object");
    Objects.requireNonNull(dst, "dst");
    ensureOpen();
    reads.read(object, offsetBytes, dst);
  }

  /**
   * {@inheritDoc}
   *
   * <p>One {@code GET} for the whole range, sent with the first read, pinned and checked as a
   * {@link #read} is; each piece is copied from the body as it is asked for, and the body must
   * end after the last. Failures are those of {@link #read}, for the piece being read.
   */
  @Override
  public RangeStream openRange(RemoteObject object, long offsetBytes, long lengthBytes)
      throws IOException {
    Objects.requireNonNull(object, "object");
    ensureOpen();
    return reads.open(object, offsetBytes, lengthBytes);
  }

  private void ensureOpen() throws StorageException {
    if (closed.get()) {
      throw new StorageException("the s3: backend is closed", false);
    }
  }

  /** Closes the connection pool and any credential provider this backend created. Idempotent. */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      clients.close();
    }
  }

  /** The endpoint, region, addressing, where credentials come from and pool settings; never secrets. */
  @Override
  public String toString() {
    return "S3StorageBackend[" + clients + "]";
  }

  /**
   * Configures an {@link S3StorageBackend}. Not thread-safe; {@link #build()} may be called more
   * than once.
   */
  public static final class Builder {
    // Package-private: S3Clients reads them once, while build() runs.
    URI endpoint;
    String region;
    Boolean pathStyle;
    AwsCredentialsProvider credentialsProvider;
    String profile;
    boolean anonymous;
    int maxConnections = DEFAULT_MAX_CONNECTIONS;
    Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
    Duration readTimeout = DEFAULT_READ_TIMEOUT;
    int listPageSize = DEFAULT_LIST_PAGE_SIZE;
    Map<String, String> environment = System.getenv();

    private Builder() {}

    /**
     * The endpoint of an S3-compatible store (MinIO, Ceph, S3Proxy) or a VPC endpoint. Default:
     * {@code AWS_ENDPOINT_URL_S3}, then {@code AWS_ENDPOINT_URL} (unless
     * {@code AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true}), else AWS S3 itself.
     */
    public Builder endpoint(URI endpoint) {
      Objects.requireNonNull(endpoint, "endpoint");
      if (endpoint.getScheme() == null || endpoint.getHost() == null) {
        throw new IllegalArgumentException("endpoint must be an absolute http(s) URI: " + endpoint);
      }
      this.endpoint = endpoint;
      return this;
    }

    /**
     * The region to sign for, such as {@code eu-west-1}. Default: the SDK's region chain
     * ({@code aws.region}, {@code AWS_REGION}, the profile, instance metadata), then
     * {@code AWS_DEFAULT_REGION}, else {@value #FALLBACK_REGION}, which is also right for most
     * S3-compatible stores. On AWS, a bucket in another region is followed there.
     */
    public Builder region(String region) {
      Objects.requireNonNull(region, "region");
      if (region.isBlank()) {
        throw new IllegalArgumentException("region is blank");
      }
      this.region = region.strip();
      return this;
    }

    /**
     * Path-style addressing ({@code http://host/bucket/key}) instead of virtual-hosted style.
     * Default: on when an endpoint is configured (S3-compatible stores rarely have wildcard DNS),
     * off for AWS.
     */
    public Builder pathStyle(boolean pathStyle) {
      this.pathStyle = pathStyle;
      return this;
    }

    /** Credentials to use instead of the SDK's default chain. Only its class name is ever shown. */
    public Builder credentialsProvider(AwsCredentialsProvider credentialsProvider) {
      this.credentialsProvider = Objects.requireNonNull(credentialsProvider, "credentialsProvider");
      return this;
    }

    /** The profile of {@code ~/.aws/config} and {@code ~/.aws/credentials} to use. Default: {@code AWS_PROFILE}, else "default". */
    public Builder profile(String profile) {
      Objects.requireNonNull(profile, "profile");
      if (profile.isBlank()) {
        throw new IllegalArgumentException("profile is blank");
      }
      this.profile = profile.strip();
      return this;
    }

    /** Sends unsigned requests, for public buckets. Default: off. */
    public Builder anonymous(boolean anonymous) {
      this.anonymous = anonymous;
      return this;
    }

    /**
     * Size of the HTTP connection pool: the most ranges in flight at once. Default {@value
     * #DEFAULT_MAX_CONNECTIONS}. Each connection holds only socket buffers: range data goes into
     * the caller's memory.
     */
    public Builder maxConnections(int maxConnections) {
      if (maxConnections < 1) {
        throw new IllegalArgumentException("maxConnections must be at least 1: " + maxConnections);
      }
      this.maxConnections = maxConnections;
      return this;
    }

    /** Time allowed to open a connection. Default 10 s. */
    public Builder connectTimeout(Duration connectTimeout) {
      this.connectTimeout = positive("connectTimeout", connectTimeout);
      return this;
    }

    /** Time a response may stall between bytes before the read fails (retryable). Default 30 s. */
    public Builder readTimeout(Duration readTimeout) {
      this.readTimeout = positive("readTimeout", readTimeout);
      return this;
    }

    /** Keys per {@code ListObjectsV2} page, 1 to 1000. Default 1000. */
    public Builder listPageSize(int listPageSize) {
      if (listPageSize < 1 || listPageSize > 1000) {
        throw new IllegalArgumentException("listPageSize must be 1 to 1000: " + listPageSize);
      }
      this.listPageSize = listPageSize;
      return this;
    }

    /** The environment variables to resolve the endpoint from; tests use this. */
    Builder environment(Map<String, String> environment) {
      this.environment = Map.copyOf(environment);
      return this;
    }

    /**
     * Creates the backend. Does no network I/O, except that the SDK's region chain may ask
     * instance metadata when no region is configured anywhere (disable with
     * {@code AWS_EC2_METADATA_DISABLED=true}).
     *
     * @throws IllegalStateException if settings contradict each other
     */
    public S3StorageBackend build() {
      if (credentialsProvider != null && anonymous) {
        throw new IllegalStateException(
            "credentialsProvider and anonymous were both set; choose one");
      }
      if (profile != null && (credentialsProvider != null || anonymous)) {
        throw new IllegalStateException("profile was set together with "
            + (anonymous ? "anonymous" : "credentialsProvider") + "; choose one");
      }
      return new S3StorageBackend(S3Clients.open(this), listPageSize);
    }

    private static Duration positive(String name, Duration value) {
      Objects.requireNonNull(value, name);
      if (value.isNegative() || value.isZero()) {
        throw new IllegalArgumentException(name + " must be positive: " + value);
      }
      return value;
    }
  }
}
