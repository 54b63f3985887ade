/** The {@code s3:} storage backend, on the AWS SDK for Java v2. */
module dev.modelcache.s3 {
  requires transitive dev.modelcache.core;
  requires software.amazon.awssdk.services.s3;

}
