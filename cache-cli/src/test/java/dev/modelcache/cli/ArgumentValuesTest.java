package dev.modelcache.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.modelcache.common.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Sizes, durations, the cache root and JSON text: the values every command shares. */
class ArgumentValuesTest {

  @Test
  void sizesAcceptBinaryAndDecimalUnits() {
    assertThat(ByteSize.parse("1048576").bytes()).isEqualTo(1_048_576);
    assertThat(ByteSize.parse("8MiB").bytes()).isEqualTo(8L << 20);
    assertThat(ByteSize.parse("8mi").bytes()).isEqualTo(8L << 20);
    assertThat(ByteSize.parse("2GiB").bytes()).isEqualTo(2L << 30);
    assertThat(ByteSize.parse("500M").bytes()).isEqualTo(500_000_000L);
    assertThat(ByteSize.parse("500MB").bytes()).isEqualTo(500_000_000L);
    assertThat(ByteSize.parse("1.5GiB").bytes()).isEqualTo(3L << 29);
    assertThat(ByteSize.parse("64KiB").bytes()).isEqualTo(65_536);
    assertThat(ByteSize.parse("0").bytes()).isZero();
  }

  @Test
  void badSizesSayWhatIsAccepted() {
    assertThatThrownBy(() -> ByteSize.parse("12XB"))
        .hasMessageContaining("'12XB'")
        .hasMessageContaining("unknown unit 'XB'");
    assertThatThrownBy(() -> ByteSize.parse("lots")).hasMessageContaining("e.g. 8MiB");
    assertThatThrownBy(() -> ByteSize.parse("-1")).hasMessageContaining("invalid size '-1'");
    assertThatThrownBy(() -> ByteSize.parse("99999999999TiB")).hasMessageContaining("too large");
  }

  @Test
  void sizesFormatForPeople() {
    assertThat(ByteSize.format(512)).isEqualTo("512 B");
    assertThat(ByteSize.format(8L << 20)).isEqualTo("8.00 MiB");
    assertThat(ByteSize.format(3L << 29)).isEqualTo("1.50 GiB");
    assertThat(ByteSize.format(300L << 30)).isEqualTo("300 GiB");
  }

  @Test
  void durationsNeedAUnit() {
    assertThat(TimeSpan.parse("30s").duration()).isEqualTo(Duration.ofSeconds(30));
    assertThat(TimeSpan.parse("10m").duration()).isEqualTo(Duration.ofMinutes(10));
    assertThat(TimeSpan.parse("1h").duration()).isEqualTo(Duration.ofHours(1));
    assertThat(TimeSpan.parse("1h30m").duration()).isEqualTo(Duration.ofMinutes(90));
    assertThat(TimeSpan.parse("250ms").duration()).isEqualTo(Duration.ofMillis(250));
    assertThat(TimeSpan.parse("0").duration()).isZero();
    assertThatThrownBy(() -> TimeSpan.parse("30")).hasMessageContaining("add a unit");
    assertThatThrownBy(() -> TimeSpan.parse("30x")).hasMessageContaining("invalid duration '30x'");
    assertThatThrownBy(() -> TimeSpan.parse("m")).hasMessageContaining("invalid duration 'm'");
    assertThatThrownBy(() -> TimeSpan.parse("99999999999999999999h"))
        .hasMessageContaining("too large");
  }

  @Test
  void cacheRootFollowsOptionThenEnvironmentThenUser() {
    Path home = Path.of("/home/ann");
    Path option = Path.of("/mnt/cache");
    assertThat(CacheRoot.resolve(option, Map.of("MODELCACHE_ROOT", "/x"), false, home))
        .isEqualTo(option);
    assertThat(CacheRoot.resolve(null, Map.of("MODELCACHE_ROOT", "/x"), true, home))
        .isEqualTo(Path.of("/x"));
    assertThat(CacheRoot.resolve(null, Map.of(), true, home))
        .isEqualTo(Path.of("/var/cache/modelcache"));
    assertThat(CacheRoot.resolve(null, Map.of("XDG_CACHE_HOME", "/xdg"), false, home))
        .isEqualTo(Path.of("/xdg/modelcache"));
    assertThat(CacheRoot.resolve(null, Map.of("XDG_CACHE_HOME", "relative"), false, home))
        .isEqualTo(Path.of("/home/ann/.cache/modelcache"));
    assertThat(CacheRoot.resolve(null, Map.of(), false, home))
        .isEqualTo(Path.of("/home/ann/.cache/modelcache"));
  }

  @Test
  void jsonWritesOptionalsAndRefusesUnknownTypes() {
    assertThat(JsonObject.create()
            .put("a", java.util.Optional.empty())
            .put("b", java.util.Optional.of("x"))
            .toString())
        .isEqualTo("{\"a\":null,\"b\":\"x\"}");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> JsonObject.create().put("p", Path.of("/x")).toString())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("sun.nio.fs.UnixPath");
  }

  @Test
  void jsonEscapesEverythingAParserNeeds() {
    String tricky =
        "quote\" backslash\\ newline\n tab\t nul\u0000 bell\u0007 ünïcödé \u2028 emoji \uD83D\uDE00";
    var doc = JsonObject.create()
        .put("s", tricky)
        .put("n", 42L)
        .put("d", 1.25)
        .put("whole", 2.0)
        .put("nan", Double.NaN)
        .put("b", true)
        .put("nil", null)
        .put("shape", new long[] {4096, 11008})
        .put("list", List.of(JsonObject.create().put("k", "v")));
    String text = doc.toString();
    assertThat(text).doesNotContain("\n").doesNotContain("\u0000");
    Map<String, Object> back = Cli.jsonObject(text);
    assertThat(back.get("s")).isEqualTo(tricky);
    assertThat(back.get("n")).isEqualTo(42L);
    assertThat(back.get("d")).isEqualTo(1.25);
    assertThat(back.get("whole")).isEqualTo(2L);
    assertThat(back.get("nan")).isNull();
    assertThat(back.get("b")).isEqualTo(true);
    assertThat(back).containsKey("nil");
    assertThat(back.get("shape")).isEqualTo(List.of(4096L, 11008L));
    assertThat(back.get("list")).isEqualTo(List.of(Map.of("k", "v")));
    assertThat(List.copyOf(back.keySet()))
        .containsExactly("s", "n", "d", "whole", "nan", "b", "nil", "shape", "list");
  }
}
