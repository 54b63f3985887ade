package dev.modelcache.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MappedReadsTest {

  @TempDir
  Path tmp;

  @Test
  void feedsEveryByteOfTheRangeInOrderInChunks() throws Exception {
    byte[] data = new byte[MappedReads.CHUNK_BYTES * 3 + 123];
    new Random(7).nextBytes(data);
    Path file = Files.write(tmp.resolve("f.bin"), data);
    List<Integer> sizes = new ArrayList<>();
    ByteBuffer seen = ByteBuffer.allocate(data.length - 1000);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      MappedReads.read(ch, 1000, data.length - 1000, chunk -> {
        sizes.add(chunk.remaining());
        seen.put(chunk);
      });
    }
    assertThat(sizes)
        .containsExactly(
            MappedReads.CHUNK_BYTES, MappedReads.CHUNK_BYTES, MappedReads.CHUNK_BYTES + 123 - 1000);
    assertThat(seen.array()).isEqualTo(java.util.Arrays.copyOfRange(data, 1000, data.length));
  }

  @Test
  void aFileTruncatedUnderTheMappingIsAnInternalErrorNotACrash() throws Exception {
    Path file = Files.write(tmp.resolve("f.bin"), new byte[MappedReads.CHUNK_BYTES * 4]);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        FileChannel other = FileChannel.open(file, StandardOpenOption.WRITE)) {
      List<Integer> chunks = new ArrayList<>();
      assertThatThrownBy(() -> MappedReads.read(ch, 0, MappedReads.CHUNK_BYTES * 4L, chunk -> {
            chunks.add(chunk.remaining());
            other.truncate(0); // another process shrinks the file while it is read back
          }))
          .isInstanceOf(InternalError.class);
      assertThat(chunks).as("the first chunk was read before the truncation").hasSize(1);
    }
  }
}
