package dev.modelcache.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** {@link FreeSpace}: its two forms, their bounds, how each resolves and how the text form round-trips. */
class FreeSpaceTest {
  @Test
  void bytes() {
    FreeSpace f = FreeSpace.ofBytes(0);
    assertThat(f.isPercent()).isFalse();
    assertThat(f.resolve(1000)).isZero();
    assertThat(FreeSpace.ofBytes(5).resolve(1000)).isEqualTo(5);
    assertThat(FreeSpace.ofBytes(5)).hasToString("5");
    assertThatThrownBy(() -> FreeSpace.ofBytes(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("free space must be >= 0 bytes, was -1");
  }

  @Test
  void percent() {
    FreeSpace f = FreeSpace.ofPercent(0);
    assertThat(f.isPercent()).isTrue();
    assertThat(f.resolve(1000)).isZero();
    assertThat(FreeSpace.ofPercent(2.5).resolve(1000)).isEqualTo(25);
    assertThat(FreeSpace.ofPercent(1).resolve(101)).as("rounded up").isEqualTo(2);
    assertThat(FreeSpace.ofPercent(99.5).resolve(200)).isEqualTo(199);
    assertThat(FreeSpace.ofPercent(2.5)).hasToString("2.5%");
    assertThat(FreeSpace.ofPercent(10)).hasToString("10%");
    assertThat(FreeSpace.ofPercent(0)).hasToString("0%");
    assertThatThrownBy(() -> FreeSpace.ofPercent(100))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("free space must be at least 0% and below 100% of the disk, was 100.0%");
    assertThatThrownBy(() -> FreeSpace.ofPercent(-0.1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("free space must be at least 0% and below 100% of the disk, was -0.1%");
    assertThatThrownBy(() -> FreeSpace.ofPercent(Double.NaN))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void constructorNeedsExactlyOneForm() {
    assertThatThrownBy(() -> new FreeSpace(1, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("a free-space floor is either bytes or a percentage, was 1 bytes and 1.0%");
    assertThatThrownBy(() -> new FreeSpace(-1, -1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new FreeSpace(0, 0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new FreeSpace(-1, 100))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("a free-space floor must be below 100% of the disk, was 100.0%");
    assertThatThrownBy(() -> new FreeSpace(-1, Double.NaN))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("a free-space floor must be below 100% of the disk, was NaN%");
    assertThat(new FreeSpace(-1, 99.9).isPercent()).isTrue();
    assertThat(new FreeSpace(0, -1).isPercent()).isFalse();
  }

  @Test
  void parse() {
    assertThat(FreeSpace.parse(" 5 % ")).isEqualTo(FreeSpace.ofPercent(5));
    assertThat(FreeSpace.parse("0.5%")).isEqualTo(FreeSpace.ofPercent(0.5));
    assertThat(FreeSpace.parse("1024")).isEqualTo(FreeSpace.ofBytes(1024));
    assertThat(FreeSpace.parse(FreeSpace.ofPercent(12.25).toString()))
        .isEqualTo(FreeSpace.ofPercent(12.25));
    assertThatThrownBy(() -> FreeSpace.parse("5GB"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("'5GB' is neither a number of bytes nor a percentage like 5%");
    assertThatThrownBy(() -> FreeSpace.parse("x%"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("'x%' is neither a number of bytes nor a percentage like 5%");
  }
}
