package dev.modelcache.s3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.modelcache.core.spi.SourceChecksum;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.model.ChecksumType;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ServerSideEncryption;

/** The choice of whole-object digest from what HEAD reports, including answers no test server gives (SSE-KMS, SSE-C). */
class SourceChecksumsTest {

  private static final String MD5_ETAG = "\"9e107d9d372bb6826bd81d3542a419d6\"";

  @Test
  void fullObjectSha256WinsAndIsConvertedFromBase64ToHex() {
    var head = HeadObjectResponse.builder()
        .eTag(MD5_ETAG)
        .checksumType(ChecksumType.FULL_OBJECT)
        .checksumCRC32("NSRBwg==")
        .checksumSHA256("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")
        .build();
    assertThat(SourceChecksums.strongest(head))
        .isEqualTo(new SourceChecksum(
            "SHA-256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
  }

  @Test
  void s3sDefaultCrc64NvmeOfAMultipartObjectBeatsItsEtag() {
    // S3 gives objects uploaded since 2025 a full-object CRC64NVME, multipart ones included.
    var head = HeadObjectResponse.builder()
        .eTag("\"0123456789abcdef0123456789abcdef-40\"")
        .checksumType(ChecksumType.FULL_OBJECT)
        .checksumCRC64NVME("rosUhgp5mIg=")
        .build();
    assertThat(SourceChecksums.strongest(head))
        .isEqualTo(new SourceChecksum("CRC64NVME", "ae8b14860a799888"));
  }

  @Test
  void crc32IsUsedWhenItIsTheOnlyFullObjectChecksum() {
    var head =
        HeadObjectResponse.builder().eTag("\"abc-3\"").checksumCRC32("NSRBwg==").build();
    assertThat(SourceChecksums.strongest(head)).isEqualTo(new SourceChecksum("CRC32", "352441c2"));
  }

  @Test
  void compositeChecksumsArePerPartDigestsPreferredToTheMultipartEtag() {
    var head = HeadObjectResponse.builder()
        .eTag("\"0123456789abcdef0123456789abcdef-4\"")
        .checksumType(ChecksumType.COMPOSITE)
        .checksumSHA256("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=-4")
        .build();
    assertThat(SourceChecksums.strongest(head))
        .as("a composite checksum, which is SHA-256 of the parts' SHA-256s")
        .isEqualTo(SourceChecksum.composite(
            "SHA-256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 4, 0));
    var crc = HeadObjectResponse.builder()
        .eTag("\"0123456789abcdef0123456789abcdef-4\"")
        .checksumType(ChecksumType.COMPOSITE)
        .checksumCRC32C("NSRBwg==-4")
        .checksumSHA256("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=-4")
        .build();
    assertThat(SourceChecksums.strongest(crc))
        .as("the cheapest first")
        .isEqualTo(SourceChecksum.composite("CRC32C", "352441c2", 4, 0));
    var malformed = HeadObjectResponse.builder()
        .eTag("\"0123456789abcdef0123456789abcdef-4\"")
        .checksumType(ChecksumType.COMPOSITE)
        .checksumSHA256("not base64-4")
        .build();
    assertThat(SourceChecksums.strongest(malformed))
        .as("then the multipart ETag")
        .isEqualTo(SourceChecksum.multipart("0123456789abcdef0123456789abcdef", 4, 0));
  }

  @Test
  void singlePartEtagIsAnMd5UnlessEncryptedWithKmsOrCustomerKeys() {
    assertThat(SourceChecksums.strongest(
            HeadObjectResponse.builder().eTag(MD5_ETAG).build()))
        .isEqualTo(new SourceChecksum("MD5", "9e107d9d372bb6826bd81d3542a419d6"));
    assertThat(SourceChecksums.strongest(HeadObjectResponse.builder()
            .eTag(MD5_ETAG)
            .serverSideEncryption(ServerSideEncryption.AES256)
            .build()))
        .isNotNull();
    assertThat(SourceChecksums.strongest(HeadObjectResponse.builder()
            .eTag(MD5_ETAG)
            .serverSideEncryption(ServerSideEncryption.AWS_KMS)
            .build()))
        .isNull();
    assertThat(SourceChecksums.strongest(HeadObjectResponse.builder()
            .eTag(MD5_ETAG)
            .serverSideEncryption("aws:kms:dsse")
            .build()))
        .isNull();
    assertThat(SourceChecksums.strongest(HeadObjectResponse.builder()
            .eTag(MD5_ETAG)
            .sseCustomerAlgorithm("AES256")
            .build()))
        .isNull();
  }

  @Test
  void multipartEtagsAreMultipartChecksumsUnlessEncryptedAndMalformedOnesAreNone() {
    assertThat(SourceChecksums.strongest(HeadObjectResponse.builder()
            .eTag("\"9e107d9d372bb6826bd81d3542a419d6-2\"")
            .build()))
        .isEqualTo(SourceChecksum.multipart("9e107d9d372bb6826bd81d3542a419d6", 2, 0));
    assertThat(SourceChecksums.strongest(HeadObjectResponse.builder()
            .eTag("\"9e107d9d372bb6826bd81d3542a419d6-2\"")
            .serverSideEncryption(ServerSideEncryption.AWS_KMS)
            .build()))
        .isNull();
    assertThat(SourceChecksums.strongest(HeadObjectResponse.builder()
            .eTag("\"9e107d9d372bb6826bd81d3542a419d6-0\"")
            .build()))
        .isNull();
    assertThat(SourceChecksums.strongest(HeadObjectResponse.builder()
            .eTag("\"9e107d9d372bb6826bd81d3542a419d6-x\"")
            .build()))
        .isNull();
    assertThat(SourceChecksums.strongest(
            HeadObjectResponse.builder().eTag("W/\"xyz\"").build()))
        .isNull();
    assertThat(SourceChecksums.strongest(HeadObjectResponse.builder().build())).isNull();
    assertThat(SourceChecksums.fromBase64("SHA-256", "not base64!")).isNull();
  }
}
