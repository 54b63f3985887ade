package dev.modelcache.s3;

import dev.modelcache.core.InvalidObjectKeyException;
import dev.modelcache.core.SourceNotFoundException;
import dev.modelcache.core.StorageException;
import dev.modelcache.core.spi.ObjectKeys;
import dev.modelcache.core.spi.RemoteObject;
import dev.modelcache.core.spi.SourceChecksum;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ChecksumMode;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Lists an {@code s3://bucket/prefix/} into {@link RemoteObject}s: {@code ListObjectsV2} page by
 * page, directory markers skipped, every key checked as a safe relative path, then one {@code
 * HEAD} per object ({@value #HEAD_CONCURRENCY} at a time) for its ETag, version id and strongest
 * {@link SourceChecksum}, and for a multipart one, {@code HEAD ?partNumber=1} for its part size.
 *
 * <p>Thread-safe: several listings may run at once. The only mutable state is the flag that
 * records a store which does not answer {@code HEAD ?partNumber=} as S3 does; it is set at most
 * once and never cleared, so a racing listing asks at worst once more.
 */
final class S3Listing {

  /** How many {@code HEAD}s run at once while listing. */
  static final int HEAD_CONCURRENCY = 16;

  private static final System.Logger SOURCE_LOG =
      System.getLogger(S3StorageBackend.class.getName());

  private final S3Client control;
  private final String credentialsSource;
  private final int listPageSize;
  /** Set once the store answered {@code HEAD ?partNumber=} other than as S3 does: it is not asked again. */
  private final AtomicBoolean partHeadUnsupported = new AtomicBoolean();

  /**
   * @param control a client with the SDK's standard retries, not owned: the caller closes it
   * @param credentialsSource where credentials come from, for messages
   * @param listPageSize keys per {@code ListObjectsV2} page, 1 to 1000
   */
  S3Listing(S3Client control, String credentialsSource, int listPageSize) {
    this.control = control;
    this.credentialsSource = credentialsSource;
    this.listPageSize = listPageSize;
  }

  /** See {@link S3StorageBackend#list}: the objects under {@code location}, sorted by relative path. */
  List<RemoteObject> list(S3Location location) throws IOException {
    String action = "listing " + location;
    List<S3Object> found = new ArrayList<>();
    String token = null;
    do {
      var request = ListObjectsV2Request.builder()
          .bucket(location.bucket())
          .prefix(location.key())
          .maxKeys(listPageSize)
          .continuationToken(token)
          .build();
      ListObjectsV2Response page;
      try {
        page = control.listObjectsV2(request);
      } catch (SdkException e) {
        throw FailureMapping.map(e, action, location, credentialsSource);
      }
      for (S3Object object : page.contents()) {
        if (object.key().endsWith("/") && object.size() != null && object.size() == 0) {
          continue; // a directory marker
        }
        found.add(object);
      }
      token = Boolean.TRUE.equals(page.isTruncated()) ? page.nextContinuationToken() : null;
    } while (token != null);
    if (found.isEmpty()) {
      throw new SourceNotFoundException(String.format(
          Locale.ROOT,
          "no objects under prefix '%s' in bucket '%s' (%s)",
          location.key(),
          location.bucket(),
          location));
    }
    List<String> paths = new ArrayList<>(found.size());
    for (S3Object object : found) {
      paths.add(ObjectKeys.relativePath(location.key(), object.key()));
    }
    checkNoFileIsADirectory(found.stream().map(S3Object::key).toList(), paths);
    List<RemoteObject> objects = headAll(location, found, paths);
    objects.sort(Comparator.comparing(RemoteObject::relativePath));
    return List.copyOf(objects);
  }

  /**
   * @throws InvalidObjectKeyException naming the first of {@code keys} whose relative path (the
   *     same index of {@code paths}) is also the directory of another path
   */
  static void checkNoFileIsADirectory(List<String> keys, List<String> paths)
      throws InvalidObjectKeyException {
    Set<String> directories = new HashSet<>();
    for (String path : paths) {
      for (int slash = path.indexOf('/'); slash >= 0; slash = path.indexOf('/', slash + 1)) {
        directories.add(path.substring(0, slash));
      }
    }
    for (int i = 0; i < paths.size(); i++) {
      if (directories.contains(paths.get(i))) {
        throw new InvalidObjectKeyException(
            keys.get(i), "it is a file and also the directory of other keys");
      }
    }
  }

  private List<RemoteObject> headAll(
      S3Location location, List<S3Object> objects, List<String> paths) throws IOException {
    if (objects.size() == 1) {
      return new ArrayList<>(List.of(head(location.bucket(), objects.get(0).key(), paths.get(0))));
    }
    List<Future<RemoteObject>> results = new ArrayList<>(objects.size());
    // Platform threads: a virtual thread blocking on a socket would start the JDK's I/O poller,
    // which sits in native code until the JVM exits, and a JVM waits about 300 ms at exit for such
    // a thread (a cost every run of the command would pay).
    int threads = Math.min(HEAD_CONCURRENCY, objects.size());
    try (ExecutorService executor = Executors.newFixedThreadPool(
        threads, Thread.ofPlatform().name("modelcache-head-", 1).daemon().factory())) {
      for (int i = 0; i < objects.size(); i++) {
        String key = objects.get(i).key();
        String path = paths.get(i);
        results.add(executor.submit(() -> head(location.bucket(), key, path)));
      }
      List<RemoteObject> heads = new ArrayList<>(objects.size());
      for (Future<RemoteObject> result : results) {
        heads.add(result.get());
      }
      return heads;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      var interrupted = new InterruptedIOException("interrupted while listing " + location);
      interrupted.initCause(e);
      throw interrupted;
    } catch (ExecutionException e) {
      results.forEach(r -> r.cancel(true));
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      throw new StorageException(
          "listing " + location + " failed: " + e.getCause(), false, e.getCause());
    }
  }

  private RemoteObject head(String bucket, String key, String relativePath) throws IOException {
    S3Location location = new S3Location(bucket, key);
    HeadObjectResponse head;
    try {
      head = control.headObject(HeadObjectRequest.builder()
          .bucket(bucket)
          .key(key)
          .checksumMode(ChecksumMode.ENABLED)
          .build());
    } catch (SdkException e) {
      throw FailureMapping.map(
          e, "reading the metadata of " + location, location, credentialsSource);
    }
    String versionId = head.versionId();
    if (versionId != null && (versionId.isEmpty() || versionId.equals("null"))) {
      versionId = null; // an unversioned bucket
    }
    long sizeBytes = head.contentLength() == null ? 0 : head.contentLength();
    SourceChecksum checksum = SourceChecksums.strongest(head);
    if (checksum != null && checksum.isMultipart()) {
      checksum = withPartSize(location, checksum, sizeBytes, head.eTag());
    }
    return new RemoteObject(
        location.objectName(),
        relativePath,
        sizeBytes,
        SourceChecksums.unquote(head.eTag()),
        versionId,
        checksum);
  }

  /**
   * Learns a multipart object's part size from {@code HEAD ?partNumber=1} (part 1's length and the
   * part count), where the store answers it as S3 does; otherwise the cache infers the part size.
   * A store that does not (S3Proxy answers 501; others send the whole object) is not asked again.
   */
  private SourceChecksum withPartSize(
      S3Location location, SourceChecksum checksum, long sizeBytes, String etag) {
    if (partHeadUnsupported.get() || checksum.parts() == 1) {
      return checksum;
    }
    try {
      HeadObjectResponse part = control.headObject(HeadObjectRequest.builder()
          .bucket(location.bucket())
          .key(location.key())
          .partNumber(1)
          .ifMatch(etag)
          .build());
      Long partLength = part.contentLength();
      if (part.partsCount() != null
          && part.partsCount() == checksum.parts()
          && partLength != null
          && partLength > 0
          && partLength < sizeBytes) {
        return SourceChecksum.multipart(checksum.hex(), checksum.parts(), partLength);
      }
      partHeadUnsupported.set(
          true); // answered, but not as S3 does: the whole object, no part count
    } catch (S3Exception e) {
      if (e.statusCode() == 501 || e.statusCode() == 400 || e.statusCode() == 405) {
        partHeadUnsupported.set(true);
      }
      SOURCE_LOG.log(
          System.Logger.Level.DEBUG,
          () -> "HEAD ?partNumber=1 of " + location + " failed: " + e.getMessage());
    } catch (SdkException e) {
      SOURCE_LOG.log(
          System.Logger.Level.DEBUG,
          () -> "HEAD ?partNumber=1 of " + location + " failed: " + e.getMessage());
    }
    return checksum;
  }
}
