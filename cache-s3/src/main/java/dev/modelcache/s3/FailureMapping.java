package dev.modelcache.s3;

import dev.modelcache.core.SourceAccessDeniedException;
import dev.modelcache.core.SourceNotFoundException;
import dev.modelcache.core.StorageException;
import java.io.IOException;
import java.util.Locale;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.exception.SdkServiceException;

/**
 * Maps the SDK's exceptions to the cache's: permanent failures get their specific type and a
 * message naming bucket and key; everything that another attempt may cure (throttling, server
 * errors, resets, timeouts) becomes a retryable {@link StorageException}.
 */
final class FailureMapping {

  private FailureMapping() {}

  /**
   * @param failure what the SDK threw
   * @param action what was being done, for the message: "listing s3://b/p/", "reading ..."
   * @param location the bucket and key (or prefix) involved
   * @param credentialsSource a name for where credentials came from (a class name, never a value)
   */
  static IOException map(
      SdkException failure, String action, S3Location location, String credentialsSource) {
    if (failure instanceof SdkServiceException service) {
      return mapService(service, action, location, credentialsSource);
    }
    if (failure instanceof ApiCallTimeoutException
        || failure instanceof ApiCallAttemptTimeoutException) {
      return new StorageException(action + " timed out: " + failure.getMessage(), true, failure);
    }
    if (failure instanceof SdkClientException && hasIoCause(failure)) {
      return new StorageException(
          action + " failed in transport (retryable): " + rootMessage(failure), true, failure);
    }
    // Missing credentials, a malformed request, a closed client: trying again will not help.
    return new StorageException(action + " failed: " + failure.getMessage(), false, failure);
  }

  private static IOException mapService(
      SdkServiceException failure, String action, S3Location location, String credentialsSource) {
    int status = failure.statusCode();
    String code = errorCode(failure);
    String detail = String.format(Locale.ROOT, "HTTP %d%s", status, code == null ? "" : " " + code);
    switch (status) {
      case 403 -> {
        return new SourceAccessDeniedException(
            String.format(
                Locale.ROOT,
                "access denied %s (%s): the credentials (from %s) or the bucket or IAM policy are"
                    + " the likely cause",
                action,
                detail,
                credentialsSource),
            failure);
      }
      case 404 -> {
        if ("NoSuchBucket".equals(code)) {
          return new SourceNotFoundException(
              String.format(
                  Locale.ROOT,
                  "bucket '%s' does not exist (%s, %s)",
                  location.bucket(),
                  action,
                  detail),
              failure);
        }
        if ("NoSuchKey".equals(code)) {
          return new SourceNotFoundException(
              String.format(
                  Locale.ROOT, "object %s does not exist (%s, %s)", location, action, detail),
              failure);
        }
        return new SourceNotFoundException(
            String.format(Locale.ROOT, "%s not found (%s, %s)", location, action, detail), failure);
      }
      case 301, 307 -> {
        return new StorageException(
            String.format(
                Locale.ROOT,
                "bucket '%s' is in another region or behind another endpoint (%s, %s): set the"
                    + " region or endpoint",
                location.bucket(),
                action,
                detail),
            false,
            failure);
      }
      default -> {
        boolean retryable = status == 408
            || status == 429
            || status >= 500
            || failure.isThrottlingException()
            || "SlowDown".equals(code)
            || "RequestTimeout".equals(code)
            || "RequestTimeTooSkewed".equals(code)
            || "InternalError".equals(code);
        return new StorageException(
            String.format(
                Locale.ROOT,
                "%s failed (%s)%s: %s",
                action,
                detail,
                retryable ? ", retryable" : "",
                firstLine(failure.getMessage())),
            retryable,
            failure);
      }
    }
  }

  static String errorCode(SdkServiceException failure) {
    if (failure instanceof AwsServiceException aws && aws.awsErrorDetails() != null) {
      return aws.awsErrorDetails().errorCode();
    }
    return null;
  }

  private static boolean hasIoCause(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof IOException) {
        return true;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return false;
  }

  private static String rootMessage(Throwable failure) {
    Throwable root = failure;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root.getClass().getSimpleName() + ": " + root.getMessage();
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "";
    }
    int newline = message.indexOf('\n');
    return newline < 0 ? message : message.substring(0, newline);
  }
}
