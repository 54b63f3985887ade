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
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Callable;
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
 * {@link SourceChecksum}, and for a multipart one, {@code HEAD ?partNumber=1} for its part size
 * (sent beside its {@code HEAD} when the listing's ETag says multipart, else after it).
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
    String bucket = location.bucket();
    // A multipart object's HEAD ?partNumber=1 goes beside its HEAD rather than after it when the
    // listing's ETag already says multipart: one round trip less before the download starts.
    boolean askParts = !partHeadUnsupported.get();
    List<Callable<HeadObjectResponse>> heads = new ArrayList<>(objects.size());
    List<Callable<HeadObjectResponse>> partHeads = new ArrayList<>(objects.size());
    int tasks = 0;
    for (S3Object object : objects) {
      String key = object.key();
      heads.add(() -> headObject(bucket, key));
      boolean multipart = askParts && SourceChecksums.isMultipartEtag(object.eTag());
      partHeads.add(multipart ? () -> partHead(bucket, key, object.eTag()) : null);
      tasks += multipart ? 2 : 1;
    }
    if (tasks == 1) {
      S3Object only = objects.get(0);
      return new ArrayList<>(List.of(
          describe(bucket, only, paths.get(0), headObject(bucket, only.key()), false, null)));
    }
    // Platform threads: a virtual thread blocking on a socket would start the JDK's I/O poller,
    // which sits in native code until the JVM exits, and a JVM waits about 300 ms at exit for such
    // a thread (a cost every run of the command would pay).
    List<Future<HeadObjectResponse>> started = new ArrayList<>(tasks);
    try (ExecutorService executor = Executors.newFixedThreadPool(
        Math.min(HEAD_CONCURRENCY, tasks),
        Thread.ofPlatform().name("modelcache-head-", 1).daemon().factory())) {
      List<Future<HeadObjectResponse>> headResults = new ArrayList<>(objects.size());
      List<Future<HeadObjectResponse>> partResults = new ArrayList<>(objects.size());
      for (int i = 0; i < objects.size(); i++) {
        Future<HeadObjectResponse> head = executor.submit(heads.get(i));
        started.add(head);
        headResults.add(head);
        Future<HeadObjectResponse> part =
            partHeads.get(i) == null ? null : executor.submit(partHeads.get(i));
        if (part != null) {
          started.add(part);
        }
        partResults.add(part);
      }
      List<RemoteObject> described = new ArrayList<>(objects.size());
      for (int i = 0; i < objects.size(); i++) {
        Future<HeadObjectResponse> part = partResults.get(i);
        described.add(describe(
            bucket,
            objects.get(i),
            paths.get(i),
            headResults.get(i).get(),
            part != null,
            part == null ? null : part.get()));
      }
      return described;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      var interrupted = new InterruptedIOException("interrupted while listing " + location);
      interrupted.initCause(e);
      throw interrupted;
    } catch (ExecutionException e) {
      started.forEach(r -> r.cancel(true));
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      throw new StorageException(
          "listing " + location + " failed: " + e.getCause(), false, e.getCause());
    }
  }

  private HeadObjectResponse headObject(String bucket, String key) throws IOException {
    try {
      return control.headObject(HeadObjectRequest.builder()
          .bucket(bucket)
          .key(key)
          .checksumMode(ChecksumMode.ENABLED)
          .build());
    } catch (SdkException e) {
      S3Location location = new S3Location(bucket, key);
      throw FailureMapping.map(
          e, "reading the metadata of " + location, location, credentialsSource);
    }
  }

  /**
   * The object {@code listed} as its {@code HEAD} describes it, with the part size of a multipart
   * checksum from {@code partHead}: the answer to the {@code HEAD ?partNumber=1} sent beside it
   * when {@code partAsked} (null if that failed); when none was sent and the checksum is
   * multipart, it is asked now.
   */
  private RemoteObject describe(
      String bucket,
      S3Object listed,
      String relativePath,
      HeadObjectResponse head,
      boolean partAsked,
      HeadObjectResponse partHead) {
    S3Location location = new S3Location(bucket, listed.key());
    String versionId = head.versionId();
    if (versionId != null && (versionId.isEmpty() || versionId.equals("null"))) {
      versionId = null; // an unversioned bucket
    }
    long sizeBytes = head.contentLength() == null ? 0 : head.contentLength();
    SourceChecksum checksum = SourceChecksums.strongest(head);
    if (checksum != null && checksum.isMultipart() && checksum.parts() > 1) {
      HeadObjectResponse part = partHead;
      // Sent beside the HEAD with the listing's ETag, it describes this object only if the HEAD
      // found the same one.
      if (partAsked
          && !Objects.equals(
              SourceChecksums.unquote(head.eTag()), SourceChecksums.unquote(listed.eTag()))) {
        part = null;
      } else if (!partAsked && !partHeadUnsupported.get()) {
        part = partHead(bucket, listed.key(), head.eTag());
      }
      if (part != null) {
        checksum = withPartSize(checksum, sizeBytes, part);
      }
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
   * Asks {@code HEAD ?partNumber=1} of an object with ETag {@code etag} (which it must still have)
   * for its part 1's length and part count.
   *
   * @return the answer, or null when the request failed; a store that answers it other than as S3
   *     does (S3Proxy answers 501; others send the whole object) is not asked again
   */
  private HeadObjectResponse partHead(String bucket, String key, String etag) {
    S3Location location = new S3Location(bucket, key);
    try {
      return control.headObject(HeadObjectRequest.builder()
          .bucket(bucket)
          .key(key)
          .partNumber(1)
          .ifMatch(etag)
          .build());
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
    return null;
  }

  /**
   * {@code checksum} with the part size {@code part} (the answer to {@code HEAD ?partNumber=1})
   * gives, where it answered as S3 does: part 1's length and the part count; otherwise the cache
   * infers the part size, and the store is not asked again.
   */
  private SourceChecksum withPartSize(
      SourceChecksum checksum, long sizeBytes, HeadObjectResponse part) {
    Long partLength = part.contentLength();
    if (part.partsCount() != null
        && part.partsCount() == checksum.parts()
        && partLength != null
        && partLength > 0
        && partLength < sizeBytes) {
      return SourceChecksum.multipart(checksum.hex(), checksum.parts(), partLength);
    }
    partHeadUnsupported.set(true); // answered, but not as S3 does: the whole object, no part count
    return checksum;
  }
}
