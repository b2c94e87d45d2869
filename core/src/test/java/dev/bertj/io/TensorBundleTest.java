package dev.bertj.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bertj.io.TensorBundle.BundleException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The TensorFlow checkpoint reader on small bundles written by {@link BundleWriter}: valid ones
 * read back exactly; each hostile one (truncated data, offsets past the end, wrong crc, size not
 * matching the shape, unknown dtype, compressed or corrupt blocks, overlapping tensors, ...) is
 * refused with a message naming the file and the tensor.
 */
class TensorBundleTest {
    @TempDir
    Path dir;

    private static final String Q = "bert/encoder/layer_0/attention/self/query/kernel";
    private static final String G = "bert/embeddings/LayerNorm/gamma"; // sorts first: data bytes 0..12, then Q's 12..36

    /** Two tensors, values 0..n-1 scaled, plus global_step. */
    private BundleWriter small() {
        BundleWriter w = new BundleWriter();
        w.floats(Q, new long[] {2, 3}, 0f, 1f, 2f, 3f, 4f, 5f);
        w.floats("bert/embeddings/LayerNorm/gamma", new long[] {3}, 1f, 1.5f, -2f);
        w.int64("global_step", 1000);
        return w;
    }

    private Path prefix() {
        return dir.resolve("model.ckpt");
    }

    private BundleException refused(BundleWriter w) throws IOException {
        Path p = w.write(prefix());
        return assertThrows(BundleException.class, () -> {
            try (TensorBundle b = TensorBundle.open(p)) {
                for (String n : b.names()) if (b.entry(n).dtype().equals("DT_FLOAT")) b.floats(n);
            }
        });
    }

    private static void names(BundleException e, String... parts) {
        for (String p : parts) assertTrue(e.getMessage().contains(p), "message should name " + p + ": " + e.getMessage());
    }

    @Test
    void readsBackValuesShapesAndDtypes() throws IOException {
        Path p = small().write(prefix());
        try (TensorBundle b = TensorBundle.open(p)) {
            assertEquals(List.of("bert/embeddings/LayerNorm/gamma", Q, "global_step"), List.copyOf(b.names()));
            assertArrayEquals(new float[] {0, 1, 2, 3, 4, 5}, b.floats(Q));
            assertArrayEquals(new int[] {2, 3}, b.tensor(Q).shape());
            assertArrayEquals(new float[] {1f, 1.5f, -2f}, b.floats("bert/embeddings/LayerNorm/gamma"));
            assertEquals("DT_INT64", b.entry("global_step").dtype());
            assertEquals(0, b.entry("global_step").shape().length);
            assertNull(b.entry("nope"));
            BundleException e = assertThrows(BundleException.class, () -> b.floats("global_step"));
            names(e, "model.ckpt.data-00000-of-00001", "'global_step'", "DT_INT64");
            names(assertThrows(BundleException.class, () -> b.floats("nope")), "model.ckpt.index", "'nope'");
        }
    }

    @Test
    void manyBlocksRestartPointsAndSharedPrefixes() throws IOException {
        // 300 variables with long common prefixes, 100-byte blocks, a restart every 3 entries.
        BundleWriter w = new BundleWriter();
        w.blockBytes = 100;
        w.restartInterval = 3;
        Random r = new Random(7);
        List<float[]> values = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            float[] v = new float[1 + r.nextInt(5)];
            for (int k = 0; k < v.length; k++) v[k] = (float) r.nextGaussian();
            values.add(v);
            w.floats(String.format("bert/encoder/layer_%03d/w", i), new long[] {v.length}, v);
        }
        try (TensorBundle b = TensorBundle.open(w.write(prefix()))) {
            assertEquals(300, b.names().size());
            for (int i = 0; i < 300; i++) assertArrayEquals(values.get(i), b.floats(String.format("bert/encoder/layer_%03d/w", i)));
        }
    }

    @Test
    void findsTheCheckpointFromASavedModelADirectoryOrTheIndexFile() throws IOException {
        Path saved = dir.resolve("saved");
        small().write(saved.resolve("variables").resolve("variables"));
        Path expected = saved.resolve("variables").resolve("variables");
        assertEquals(expected, TensorBundle.prefix(saved));
        assertEquals(expected, TensorBundle.prefix(expected));
        assertEquals(expected, TensorBundle.prefix(saved.resolve("variables").resolve("variables.index")));
        assertEquals(expected, TensorBundle.prefix(saved.resolve("variables")));
        IOException e = assertThrows(IOException.class, () -> TensorBundle.prefix(dir.resolve("missing")));
        assertTrue(e.getMessage().contains("missing"), e.getMessage());
        Files.createDirectories(dir.resolve("empty"));
        e = assertThrows(IOException.class, () -> TensorBundle.prefix(dir.resolve("empty")));
        assertTrue(e.getMessage().contains("no TensorFlow checkpoint"), e.getMessage());
    }

    @Test
    void truncatedDataFile() throws IOException {
        Path p = small().write(prefix());
        Path data = p.resolveSibling("model.ckpt.data-00000-of-00001");
        try (RandomAccessFile f = new RandomAccessFile(data.toFile(), "rw")) {
            f.setLength(10);
        }
        BundleException e = assertThrows(BundleException.class, () -> TensorBundle.open(p).close());
        names(e, "model.ckpt.data-00000-of-00001", "'" + G + "'", "runs past the end of the file (10 bytes)");
    }

    @Test
    void offsetPastTheEnd() throws IOException {
        BundleWriter w = small();
        w.vars.get(1).offset = 1L << 40;
        names(refused(w), "model.ckpt.data-00000-of-00001", "'bert/embeddings/LayerNorm/gamma'", "runs past the end");
    }

    @Test
    void wrongCrc() throws IOException {
        BundleWriter w = small();
        w.vars.get(0).crc = 12345;
        names(refused(w), "model.ckpt.data-00000-of-00001", "'" + Q + "'", "crc32c mismatch");
        // and a flipped byte in the data file itself
        Path p = small().write(dir.resolve("flipped"));
        Path data = p.resolveSibling("flipped.data-00000-of-00001");
        byte[] b = Files.readAllBytes(data);
        b[15] ^= 0x40; // inside Q
        Files.write(data, b);
        try (TensorBundle t = TensorBundle.open(p)) {
            BundleException e = assertThrows(BundleException.class, () -> t.floats(Q));
            names(e, "flipped.data-00000-of-00001", "'" + Q + "'", "crc32c mismatch");
        }
    }

    @Test
    void sizeNotMatchingDtypeTimesShape() throws IOException {
        BundleWriter w = small();
        w.vars.get(0).shape = new long[] {3, 3};
        names(refused(w), "model.ckpt.index", "'" + Q + "'", "size 24 bytes does not match dtype DT_FLOAT", "[3, 3] = 36");
        w = small();
        w.vars.get(0).size = 20L;
        names(refused(w), "model.ckpt.index", "'" + Q + "'", "size 20 bytes");
    }

    @Test
    void shapesThatOverflowAreRefusedBeforeAnyAllocation() throws IOException {
        BundleWriter w = small();
        w.vars.get(0).shape = new long[] {1L << 40, 1L << 40};
        names(refused(w), "model.ckpt.index", "'" + Q + "'", "overflows");
        w = small();
        w.vars.get(0).shape = new long[] {1L << 62};
        w.vars.get(0).size = 1L << 62; // *4 overflows
        names(refused(w), "'" + Q + "'", "overflows");
    }

    @Test
    void unknownAndVariableSizeDtypes() throws IOException {
        BundleWriter w = small();
        w.vars.get(0).dtype = 99;
        names(refused(w), "model.ckpt.index", "'" + Q + "'", "unknown dtype 99");
        w = small();
        w.vars.get(0).dtype = 7;
        names(refused(w), "model.ckpt.index", "'" + Q + "'", "DT_STRING");
    }

    @Test
    void compressedBlocks() throws IOException {
        BundleWriter w = small();
        w.compression = 1;
        names(refused(w), "model.ckpt.index", "snappy-compressed");
        w = small();
        w.compression = 3;
        names(refused(w), "model.ckpt.index", "unknown compression type 3");
    }

    @Test
    void overlappingEntries() throws IOException {
        BundleWriter w = small();
        w.vars.get(1).offset = 4L; // G at bytes 4..16 runs into Q, which starts at 12
        names(refused(w), "model.ckpt.data-00000-of-00001", "'" + Q + "'", "'bert/embeddings/LayerNorm/gamma'", "overlap");
    }

    @Test
    void corruptIndexBlocksAndFooter() throws IOException {
        BundleWriter w = small();
        w.corruptBlockCrc = true;
        names(refused(w), "model.ckpt.index", "crc32c mismatch", "index file is corrupt");
        w = small();
        w.restartCountOverride = 1L << 30;
        names(refused(w), "model.ckpt.index", "restart points");
        Path p = small().write(dir.resolve("short"));
        Path index = p.resolveSibling("short.index");
        byte[] b = Files.readAllBytes(index);
        Files.write(index, java.util.Arrays.copyOf(b, b.length - 1));
        names(assertThrows(BundleException.class, () -> TensorBundle.open(p)), "short.index", "bad table magic");
        Files.write(index, new byte[10]);
        names(assertThrows(BundleException.class, () -> TensorBundle.open(p)), "short.index", "48-byte table footer");
    }

    @Test
    void unsupportedBundles() throws IOException {
        BundleWriter w = small();
        w.endianness = 1;
        names(refused(w), "model.ckpt.index", "big-endian");
        w = small();
        w.header = false;
        names(refused(w), "model.ckpt.index", "no bundle header");
        w = small();
        w.vars.get(0).sliced = true;
        names(refused(w), "model.ckpt.index", "'" + Q + "'", "partitioned");
        w = small();
        w.numShards = 2;
        Path p = w.write(prefix());
        IOException e = assertThrows(IOException.class, () -> TensorBundle.open(p));
        assertTrue(e.getMessage().contains("model.ckpt.data-00000-of-00002") && e.getMessage().contains("missing"), e.getMessage());
    }
}
