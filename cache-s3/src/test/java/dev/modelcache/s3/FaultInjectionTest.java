package dev.modelcache.s3;

import static dev.modelcache.s3.S3StorageBackendTest.md5;
import static dev.modelcache.s3.S3StorageBackendTest.random;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.modelcache.core.StorageException;
import dev.modelcache.core.spi.RangeStream;
import dev.modelcache.core.spi.RemoteObject;
import dev.modelcache.core.spi.SourceChecksum;
import dev.modelcache.s3.FaultInjectingProxy.Fault;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Real HTTP faults between the backend and each real S3 server. */
@ParameterizedClass(name = "on {0}")
@EnumSource(S3Server.Kind.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FaultInjectionTest {

  private static final int SIZE_BYTES = 3 * 1024 * 1024 + 17;

  @Parameter
  private S3Server.Kind kind;

  private S3Server server;
  private FaultInjectingProxy proxy;
  private S3StorageBackend backend;
  private byte[] data;
  private RemoteObject object;

  @BeforeParameterizedClassInvocation
  void start() throws Exception {
    if (kind.unavailable() != null) {
      return; // every test skips itself with the reason
    }
    server = kind.start();
    proxy = new FaultInjectingProxy(server.endpoint());
    backend = server
        .backendThrough(proxy.endpoint())
        .readTimeout(Duration.ofSeconds(1))
        .build();
    server.createBucket("faults");
    data = random(SIZE_BYTES, 42);
    server.put("faults", "model/weights.bin", data);
    object = backend.list(URI.create("s3://faults/model/")).get(0);
  }

  @BeforeEach
  void serverRunningAndNoFaultsLeft() {
    kind.assumeAvailable();
    assertThat(proxy.pendingFaults()).isZero();
  }

  // One instance serves every server kind in turn (PER_CLASS), so each run leaves nothing behind.
  @AfterParameterizedClassInvocation
  void stop() throws Exception {
    S3Server.closeAll(backend, proxy, server);
    backend = null;
    proxy = null;
    server = null;
  }

  @ParameterizedTest
  @EnumSource(
      value = Fault.class,
      names = {"SLOW_DOWN", "INTERNAL_ERROR", "RESET_MID_BODY", "TRUNCATE_BODY", "STALL_MID_BODY"})
  void transientFaultFailsOnceAsRetryableThenTheSameBufferReadsCorrectly(Fault fault)
      throws Exception {
    ByteBuffer dst = ByteBuffer.allocateDirect(1024 * 1024);
    int getsBefore = proxy.rangedGets();
    proxy.inject(fault);

    assertThatThrownBy(() -> backend.read(object, 1000, dst))
        .isInstanceOf(StorageException.class)
        .hasMessageContaining("s3://faults/model/weights.bin")
        .hasMessageContaining("bytes 1000-")
        .satisfies(
            e -> assertThat(((StorageException) e).retryable()).as("retryable").isTrue())
        .satisfies(e -> {
          switch (fault) {
            case SLOW_DOWN ->
              assertThat(e).hasMessageContaining("503").hasMessageContaining("SlowDown");
            case INTERNAL_ERROR ->
              assertThat(e).hasMessageContaining("500").hasMessageContaining("InternalError");
            case STALL_MID_BODY -> assertThat(e).hasMessageContaining("Timeout");
            default -> assertThat(e).hasMessageContaining("failed after");
          }
        });
    // The SDK did not retry behind the engine's back: exactly one GET reached the proxy.
    assertThat(proxy.rangedGets() - getsBefore).isEqualTo(1);
    assertThat(dst.position()).isZero();

    backend.read(object, 1000, dst);
    assertThat(bytes(dst)).isEqualTo(Arrays.copyOfRange(data, 1000, 1000 + 1024 * 1024));
  }

  @Test
  void aStoreThatAnswersPartHeadsAsS3DoesGivesThePartSize() throws Exception {
    Assumptions.assumeTrue(
        kind == S3Server.Kind.S3PROXY, "s3rver's multipart ETag is a plain MD5: no part count");
    int part = 5 * 1024 * 1024;
    byte[] multi = random(2 * part + 12_345, 43);
    server.putMultipart("faults", "parts/big.bin", multi, part);
    String hex = S3StorageBackendTest.md5OfPartMd5s(multi, part);
    proxy.answerPartHeads(
        new FaultInjectingProxy.PartAnswer("/parts/big.bin", hex + "-3", part, 3));
    // A backend of its own: the shared one may have learnt that the store does not answer.
    try (S3StorageBackend fresh = server.backendThrough(proxy.endpoint()).build()) {
      RemoteObject big = fresh.list(URI.create("s3://faults/parts/")).get(0);

      // With the part size told, the one candidate: 5 MiB, where 3 parts of 10 MiB + 12,345
      // bytes fit every size from 3.34 MiB to 5 MiB.
      assertThat(big.checksum()).isEqualTo(SourceChecksum.multipart(hex, 3, part));
      assertThat(proxy.exchanges())
          .filteredOn(
              x -> x.requestLine().startsWith("HEAD ") && x.requestLine().contains("partNumber=1"))
          .singleElement()
          .satisfies(x -> {
            assertThat(x.requestHeader("If-Match")).isEqualTo("\"" + hex + "-3\"");
            assertThat(x.status()).isEqualTo(200);
          });
    } finally {
      proxy.answerPartHeads(null);
    }
  }

  @Test
  void aRangeOpenedOnceIsOneGetTakenInPieces() throws Exception {
    int getsBefore = proxy.rangedGets();
    int piece = 1024 * 1024;
    byte[] got = new byte[SIZE_BYTES - 1000];
    try (RangeStream range = backend.openRange(object, 1000, got.length)) {
      assertThat(proxy.rangedGets() - getsBefore)
          .as("nothing sent before the first read")
          .isZero();
      for (int at = 0; at < got.length; at += piece) {
        ByteBuffer dst = ByteBuffer.allocateDirect(Math.min(piece, got.length - at));
        range.read(dst);
        assertThat(dst.hasRemaining()).isFalse();
        dst.flip().get(got, at, dst.remaining());
      }
      assertThatThrownBy(() -> range.read(ByteBuffer.allocate(1)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("0 left");
    }
    assertThat(got).isEqualTo(Arrays.copyOfRange(data, 1000, SIZE_BYTES));
    assertThat(proxy.rangedGets() - getsBefore).isEqualTo(1);
    assertThat(proxy.exchanges().getLast().requestHeader("range"))
        .isEqualTo("bytes=1000-" + (SIZE_BYTES - 1));
  }

  // Not RESET_MID_BODY: a reset may discard bytes the client has received but not yet read, so
  // which piece fails would depend on timing.
  @ParameterizedTest
  @EnumSource(
      value = Fault.class,
      names = {"TRUNCATE_BODY", "STALL_MID_BODY"})
  void aFaultMidRangeFailsThePieceBeingReadAndLeavesTheEarlierOnesWhole(Fault fault)
      throws Exception {
    int piece = 512 * 1024;
    proxy.inject(fault); // after half the range's body: inside its third piece of five
    RangeStream range = backend.openRange(object, 0, 5L * piece);
    List<byte[]> pieces = new ArrayList<>();
    ByteBuffer dst = ByteBuffer.allocateDirect(piece);
    try (range) {
      for (int i = 0; i < 2; i++) {
        range.read(dst.clear());
        pieces.add(bytes(dst));
      }
      ByteBuffer third = dst.clear();
      assertThatThrownBy(() -> range.read(third))
          .isInstanceOf(StorageException.class)
          .hasMessageContaining("bytes 0-" + (5L * piece - 1))
          .satisfies(e ->
              assertThat(((StorageException) e).retryable()).as("retryable").isTrue());
      assertThat(third.position()).isZero();
      assertThatThrownBy(() -> range.read(third)).isInstanceOf(IllegalStateException.class);
    }
    for (int i = 0; i < 2; i++) {
      assertThat(pieces.get(i)).isEqualTo(Arrays.copyOfRange(data, i * piece, (i + 1) * piece));
    }
  }

  @Test
  void retryingLikeTheEngineRecoversFromEveryTransientFaultWithExactBytes() throws Exception {
    proxy.inject(Fault.SLOW_DOWN, Fault.RESET_MID_BODY, Fault.TRUNCATE_BODY, Fault.SLOW_DOWN);
    int injectedBefore = proxy.injected();
    byte[] got = new byte[SIZE_BYTES];
    int partBytes = 1024 * 1024;
    for (int offset = 0; offset < SIZE_BYTES; offset += partBytes) {
      ByteBuffer dst =
          ByteBuffer.wrap(got, offset, Math.min(partBytes, SIZE_BYTES - offset)).slice();
      readWithRetries(offset, dst, 5);
    }
    assertThat(proxy.injected() - injectedBefore).isEqualTo(4);
    assertThat(got).isEqualTo(data);
  }

  @Test
  void flippedByteIsNotAReadErrorButTheListedMd5CatchesIt() throws Exception {
    assertThat(object.checksum()).isNotNull();
    assertThat(object.checksum().algorithm()).isEqualTo("MD5");
    assertThat(object.checksum().hex()).isEqualTo(md5(data));

    proxy.inject(Fault.FLIP_BYTE);
    ByteBuffer dst = ByteBuffer.allocate(SIZE_BYTES);
    backend.read(object, 0, dst);

    byte[] got = dst.array();
    int differing = 0;
    for (int i = 0; i < got.length; i++) {
      if (got[i] != data[i]) {
        differing++;
      }
    }
    assertThat(differing).isEqualTo(1);
    assertThat(md5(got)).isNotEqualTo(object.checksum().hex());
  }

  @Test
  void closingTheBackendFailsAReadThatIsInFlightInsteadOfHangingIt() throws Exception {
    S3StorageBackend closing = server
        .backendThrough(proxy.endpoint())
        .readTimeout(Duration.ofSeconds(30))
        .build();
    RemoteObject listed = closing.list(URI.create("s3://faults/model/")).get(0);
    int getsBefore = proxy.rangedGets();
    proxy.inject(Fault.STALL_MID_BODY);
    var reading = new java.util.concurrent.CompletableFuture<Void>();
    Thread.ofVirtual().start(() -> {
      try {
        closing.read(listed, 0, ByteBuffer.allocate(SIZE_BYTES));
        reading.complete(null);
      } catch (Throwable t) {
        reading.completeExceptionally(t);
      }
    });
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (proxy.rangedGets() == getsBefore && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    Thread.sleep(200); // let the body start and stall
    long t0 = System.nanoTime();
    closing.close();

    assertThatThrownBy(() -> reading.get(10, java.util.concurrent.TimeUnit.SECONDS))
        .isInstanceOf(java.util.concurrent.ExecutionException.class)
        .hasCauseInstanceOf(IOException.class);
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(10));
  }

  /** What the download engine does: retry retryable failures with a short backoff, fail at once otherwise. */
  private void readWithRetries(long offset, ByteBuffer dst, int attempts) throws Exception {
    for (int attempt = 1; ; attempt++) {
      try {
        backend.read(object, offset, dst);
        return;
      } catch (StorageException e) {
        if (!e.retryable() || attempt == attempts) {
          throw e;
        }
      } catch (IOException e) {
        if (attempt == attempts) {
          throw e;
        }
      }
      Thread.sleep(10L * attempt);
    }
  }

  private static byte[] bytes(ByteBuffer filled) {
    ByteBuffer view = filled.duplicate().flip();
    byte[] out = new byte[view.remaining()];
    view.get(out);
    return out;
  }
}
