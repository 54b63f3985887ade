package dev.modelcache.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.modelcache.core.spi.SourceChecksum;
import java.util.BitSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** One reader at a time, blocks in order as far as they are written, fetches held while it lags. */
class OrderedReadBackTest {

  private static OrderedReadBack readBack(int blocks) {
    return new OrderedReadBack(
        FileVerifier.SourceDigest.of(new SourceChecksum("SHA-256", "00"), blocks), blocks);
  }

  @Test
  void oneReaderTakesTheWrittenBlocksInOrderAndStopsAtTheFirstMissingOne() {
    OrderedReadBack rb = readBack(4);
    BitSet written = new BitSet();

    assertThat(rb.tryStart(written::get)).as("block 0 is not written").isFalse();
    written.set(1);
    assertThat(rb.tryStart(written::get))
        .as("block 1 is written, but 0 comes first")
        .isFalse();
    written.set(0);
    assertThat(rb.tryStart(written::get)).isTrue();
    assertThat(rb.tryStart(written::get)).as("already held").isFalse();

    assertThat(rb.nextOrStop(written::get)).isZero();
    rb.advance();
    assertThat(rb.nextOrStop(written::get)).isEqualTo(1);
    rb.advance();
    assertThat(rb.nextOrStop(written::get))
        .as("block 2 is not written: the reader lets go")
        .isEqualTo(-1);
    assertThat(rb.position()).isEqualTo(2);

    written.set(2);
    written.set(3);
    assertThat(rb.tryStart(written::get))
        .as("free again, and block 2 is written")
        .isTrue();
    assertThat(rb.nextOrStop(written::get)).isEqualTo(2);
    rb.advance();
    assertThat(rb.nextOrStop(written::get)).isEqualTo(3);
    rb.advance();
    assertThat(rb.nextOrStop(written::get)).as("every block read").isEqualTo(-1);
    assertThat(rb.tryStart(written::get)).isFalse();
    assertThat(rb.position()).isEqualTo(4);
  }

  @Test
  void aFetchFarAheadWaitsUntilTheReaderCatchesUpOrStops() throws Exception {
    OrderedReadBack rb = readBack(10);
    BitSet written = new BitSet();
    written.set(0, 10);
    assertThat(rb.tryStart(written::get)).isTrue();

    CompletableFuture<Void> held = CompletableFuture.runAsync(() -> {
      try {
        rb.awaitLag(5, 2, () -> false);
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
    assertStillWaiting(held, "block 5 is 5 blocks ahead of a read-back at 0");
    for (int i = 0; i < 3; i++) {
      rb.nextOrStop(written::get);
      rb.advance();
    }
    held.get(10, TimeUnit.SECONDS); // 5 - 3 <= 2

    CompletableFuture<Void> heldAgain = CompletableFuture.runAsync(() -> {
      try {
        rb.awaitLag(9, 1, () -> false);
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
    assertStillWaiting(heldAgain, "block 9 is 6 blocks ahead of a read-back at 3");
    written.clear(3);
    assertThat(rb.nextOrStop(written::get))
        .as("block 3 is not written: the reader stops")
        .isEqualTo(-1);
    heldAgain.get(10, TimeUnit.SECONDS); // nobody reads: waiting would be for nothing
  }

  @Test
  void aFailedDownloadReleasesTheWaitingFetches() throws Exception {
    OrderedReadBack rb = readBack(10);
    BitSet written = new BitSet();
    written.set(0);
    assertThat(rb.tryStart(written::get)).isTrue();
    AtomicBoolean failed = new AtomicBoolean();

    CompletableFuture<Void> held = CompletableFuture.runAsync(() -> {
      try {
        rb.awaitLag(8, 2, failed::get);
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
    assertStillWaiting(held, "block 8 is 8 blocks ahead of a read-back at 0");
    failed.set(true);
    held.get(10, TimeUnit.SECONDS); // the condition is polled: no signal needed
  }

  private static void assertStillWaiting(CompletableFuture<Void> fetch, String why) {
    assertThatThrownBy(() -> fetch.get(200, TimeUnit.MILLISECONDS))
        .as(why)
        .isInstanceOf(TimeoutException.class);
  }
}
