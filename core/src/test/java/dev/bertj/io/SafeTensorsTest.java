package dev.bertj.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bertj.io.SafeTensors.SafeTensorsException;
import dev.bertj.tensor.Tensor;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SafeTensorsTest {

    @TempDir
    Path dir;

    /** A safetensors file: 8-byte little-endian length, the header as given, then {@code data}. */
    static byte[] file(String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(h.length).put(h).put(data).array();
    }

    static byte[] file(String header, int dataBytes) {
        return file(header, new byte[dataBytes]);
    }

    static byte[] shorts(int... bits) {
        ByteBuffer b = ByteBuffer.allocate(2 * bits.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : bits) b.putShort((short) v);
        return b.array();
    }

    Path save(String name, byte[] bytes) throws IOException {
        return Files.write(dir.resolve(name), bytes);
    }

    @Test
    void roundTripKeepsOrderValuesAndMetadata() throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("z.weight", new Tensor(new float[] {1, -2.5f, Float.MIN_VALUE, Float.MAX_VALUE, -0f, 3}, 2, 3));
        tensors.put("a.bias", new Tensor(new float[] {Float.NaN, Float.NEGATIVE_INFINITY}, 2));
        tensors.put("empty", Tensor.zeros(0, 4));
        tensors.put("scalar", new Tensor(new float[] {7}));
        Path p = dir.resolve("model.safetensors");
        SafeTensorsWriter.write(p, tensors, Map.of("format", "pt"));
        try (SafeTensors st = SafeTensors.open(p)) {
            assertEquals(List.copyOf(tensors.keySet()), List.copyOf(st.names()));
            assertEquals(Map.of("format", "pt"), st.metadata());
            assertTrue(st.contains("a.bias"));
            assertFalse(st.contains("missing"));
            assertEquals(new SafeTensors.Info("F32", new int[] {2}, 24, 32), st.info("a.bias"));
            for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
                Tensor t = st.load(e.getKey());
                assertArrayEquals(e.getValue().shape(), t.shape(), e.getKey());
                assertArrayEquals(e.getValue().data(), t.data(), e.getKey()); // bitwise, NaN and -0 included
            }
        }
    }

    @Test
    void writerMatchesHfCrateBytes() throws IOException {
        // Expected bytes copied from huggingface/safetensors safetensors/src/tensor.rs, test_serialization.
        int[] hf = {64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100,
            116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34,
            58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115,
            101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63,
            0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64};
        Path p = dir.resolve("hf.safetensors");
        SafeTensorsWriter.write(p, Map.of("attn.0", new Tensor(new float[] {0, 1, 2, 3, 4, 5}, 1, 2, 3)), null);
        assertArrayEquals(bytes(hf), Files.readAllBytes(p));
        // test_empty in the same file: no tensors, with and without metadata (padded with spaces).
        SafeTensorsWriter.write(p, Map.of(), null);
        assertArrayEquals(bytes(8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32), Files.readAllBytes(p));
        SafeTensorsWriter.write(p, Map.of(), Map.of("framework", "pt"));
        assertArrayEquals(bytes(40, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95,
                95, 34, 58, 123, 34, 102, 114, 97, 109, 101, 119, 111, 114, 107, 34, 58, 34, 112,
                116, 34, 125, 125, 32, 32, 32, 32, 32), Files.readAllBytes(p));
        try (SafeTensors st = SafeTensors.open(p)) {
            assertTrue(st.names().isEmpty());
            assertEquals("pt", st.metadata().get("framework"));
        }
    }

    static byte[] bytes(int... v) {
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) b[i] = (byte) v[i];
        return b;
    }

    @Test
    void treeMapGivesSortedOrderAndHeaderIsPaddedTo8() throws IOException {
        Map<String, Tensor> tensors = new TreeMap<>(Map.of("b", Tensor.zeros(3), "a", Tensor.zeros(1)));
        Path p = dir.resolve("sorted.safetensors");
        SafeTensorsWriter.write(p, tensors, null);
        long n = ByteBuffer.wrap(Files.readAllBytes(p), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, n % 8);
        try (SafeTensors st = SafeTensors.open(p)) {
            assertEquals(List.of("a", "b"), List.copyOf(st.names()));
        }
    }

    @Test
    void namesFollowDataOffsetsNotHeaderOrder() throws IOException {
        // HF's crate sorts entries by data_offsets before validating; the header's key order is free.
        Path p = save("order.safetensors", file("{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]},"
                + "\"e\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8));
        try (SafeTensors st = SafeTensors.open(p)) {
            assertEquals(List.of("e", "a", "b"), List.copyOf(st.names()));
        }
    }

    @Test
    void f16DecodesKnownBitPatterns() throws IOException {
        // IEEE 754-2008 binary16: 1 sign, 5 exponent (bias 15), 10 fraction bits. Values from the
        // examples table of Wikipedia's "Half-precision floating-point format" article.
        int[] bits = {0x3C00, 0xC000, 0x7BFF, 0x0400, 0x0001, 0x3555, 0x8000, 0x7C00, 0xFC00, 0x7E00};
        float[] want = {1f, -2f, 65504f, 0x1p-14f, 0x1p-24f, 0.333251953125f, -0f,
            Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN};
        assertDecodes("F16", bits, want);
    }

    @Test
    void bf16DecodesKnownBitPatterns() throws IOException {
        // bfloat16 is the top half of an IEEE binary32 (1 sign, 8 exponent, 7 fraction bits): 0x3F80
        // is 0x3F800000 = 1.0. Max finite (2 - 2^-7) * 2^127, smallest subnormal 2^-133.
        int[] bits = {0x3F80, 0xC000, 0x4049, 0x7F7F, 0x0001, 0x8000, 0x7F80, 0xFF80, 0x7FC0};
        float[] want = {1f, -2f, 3.140625f, 0x1.fep127f, 0x1p-133f, -0f,
            Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN};
        assertDecodes("BF16", bits, want);
    }

    private void assertDecodes(String dtype, int[] bits, float[] want) throws IOException {
        String header = "{\"t\":{\"dtype\":\"" + dtype + "\",\"shape\":[" + bits.length + "],\"data_offsets\":[0,"
                + 2 * bits.length + "]}}";
        Path p = save(dtype + ".safetensors", file(header, shorts(bits)));
        try (SafeTensors st = SafeTensors.open(p)) {
            assertArrayEquals(want, st.load("t").data());
        }
    }

    @Test
    void f16LoadsAcrossConversionChunks() throws IOException {
        int n = 40_000; // more than one 16K-element conversion batch, and not a multiple of it
        int[] bits = new int[n];
        for (int i = 0; i < n; i++) bits[i] = i % 2 == 0 ? 0x3C00 : 0x4000; // 1.0, 2.0
        Path p = save("chunks.safetensors", file("{\"t\":{\"dtype\":\"F16\",\"shape\":[200,200],\"data_offsets\":[0,"
                + 2 * n + "]}}", shorts(bits)));
        try (SafeTensors st = SafeTensors.open(p)) {
            float[] got = st.load("t").data();
            for (int i = 0; i < n; i++) assertEquals(i % 2 == 0 ? 1f : 2f, got[i], "index " + i);
        }
    }

    static Stream<Arguments> hostileFiles() {
        String w = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        byte[] huge = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(100_000_001L).array();
        byte[] maxU64 = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-1L).array();
        byte[] past = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1000L).put("{}".getBytes()).array();
        return Stream.of(
                Arguments.of("truncated before the header size", bytes(1, 2, 3), null, "too short"),
                Arguments.of("header size over 100 MB", huge, null, "exceeds the limit"),
                Arguments.of("header size 2^64-1", maxU64, null, "18446744073709551615"),
                Arguments.of("header size past the end", past, null, "runs past the end of the file"),
                Arguments.of("header not UTF-8", withByte(file("{\"x\":1}", 0), 10, 0xFF), null, "UTF-8"),
                Arguments.of("header not JSON", file("{\"w\": ", 0), null, "not valid JSON"),
                Arguments.of("header an array", file("[1, 2]", 0), null, "must start with '{'"),
                Arguments.of("header with leading space", file(" {}", 0), null, "must start with '{'"),
                Arguments.of("entry not an object", file("{\"w\": 3}", 0), "w", "must be a JSON object"),
                Arguments.of("missing dtype", file("{\"w\":{\"shape\":[],\"data_offsets\":[0,0]}}", 0), "w", "dtype"),
                Arguments.of("unknown dtype", file(w.replace("F32", "F128"), 8), "w", "unknown dtype 'F128'"),
                Arguments.of("negative shape", file(w.replace("[2]", "[-2]"), 8), "w", "non-negative integers"),
                Arguments.of("fractional shape", file(w.replace("[2]", "[2.0]"), 8), "w", "non-negative integers"),
                Arguments.of("one data offset", file(w.replace("[0,8]", "[8]"), 8), "w", "data_offsets"),
                Arguments.of("byte count mismatch", file(w.replace("[2]", "[2,2]"), 8), "w",
                        "shape [2, 2] needs 16 bytes of F32 but data_offsets give 8"),
                Arguments.of("end before begin", file(w.replace("[0,8]", "[8,0]"), 8), "w", "end before they begin"),
                Arguments.of("truncated data", file(w, 5), "w", "run past the end of the data section, which holds 5 bytes"),
                Arguments.of("overlapping ranges", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12), "b", "overlap tensor 'a'"),
                Arguments.of("gap between tensors", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}", 20), "b", "gap"),
                Arguments.of("gap at the start", file(w.replace("[0,8]", "[4,12]"), 12), "w", "gap"),
                Arguments.of("trailing bytes", file(w, 12), null, "holds 12 bytes but the tensors cover only 8"),
                Arguments.of("metadata value not a string", file("{\"__metadata__\":{\"k\":1}}", 0), null, "__metadata__"),
                Arguments.of("sub-byte dtype not byte aligned", file(w.replace("F32", "F4").replace("[2]", "[3]"), 8), "w",
                        "not a whole number of bytes"),
                Arguments.of("element count overflow", file(w.replace("F32", "F64")
                        .replace("[2]", "[2147483647,2147483647,2147483647]"), 8), "w", "overflows"));
    }

    private static byte[] withByte(byte[] b, int at, int value) {
        b[at] = (byte) value;
        return b;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hostileFiles")
    void hostileFilesFailNamingFileAndTensor(String why, byte[] bytes, String tensor, String detail) throws IOException {
        Path p = save("hostile.safetensors", bytes);
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> SafeTensors.open(p).close());
        String m = e.getMessage();
        assertTrue(m.startsWith(p + ": "), m);
        if (tensor != null) assertTrue(m.contains("tensor '" + tensor + "'"), m);
        assertTrue(m.contains(detail), m);
    }

    @Test
    void acceptsWhatHfAccepts() throws IOException {
        // Each accepted by safetensors 0.8.0's deserialize(): trailing JSON whitespace, unknown entry
        // fields, "__metadata__": null, sub-byte dtypes that fill whole bytes, zero-size tensors.
        String w = "{\"w\":{\"dtype\":\"F4\",\"shape\":[16],\"data_offsets\":[0,8],\"extra\":1},"
                + "\"__metadata__\":null,\"e\":{\"dtype\":\"I32\",\"shape\":[2,0],\"data_offsets\":[0,0]}}\r\n\t ";
        try (SafeTensors st = SafeTensors.open(save("lenient.safetensors", file(w, 8)))) {
            assertEquals(List.of("e", "w"), List.copyOf(st.names())); // [0,0] sorts before [0,8]
            assertTrue(st.metadata().isEmpty());
        }
    }

    @Test
    void loadRejectsOtherDtypesAndMissingNames() throws IOException {
        Path p = save("ints.safetensors", file("{\"ids\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]},"
                + "\"f\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12));
        try (SafeTensors st = SafeTensors.open(p)) {
            assertEquals(new SafeTensors.Info("I64", new int[] {1}, 0, 8), st.info("ids")); // readable, just not as float
            String m = assertThrows(SafeTensorsException.class, () -> st.load("ids")).getMessage();
            assertTrue(m.contains(p + ": tensor 'ids': has dtype I64"), m);
            m = assertThrows(SafeTensorsException.class, () -> st.load("bert.pooler")).getMessage();
            assertTrue(m.contains("tensor 'bert.pooler': no such tensor") && m.contains("'ids', 'f'"), m);
        }
    }

    @Test
    void loadAfterCloseFailsAndCloseIsIdempotent() throws IOException {
        Path p = dir.resolve("c.safetensors");
        SafeTensorsWriter.write(p, Map.of("x", Tensor.zeros(2)), null);
        SafeTensors st = SafeTensors.open(p);
        st.close();
        st.close();
        assertThrows(IllegalStateException.class, () -> st.load("x"));
    }

    @Test
    void offsetsBeyond2GbWork() throws IOException {
        // A sparse file: 2.4 GB of zeros costs no disk, and 'small' starts past 2^31.
        long big = 600_000_000L * 4;
        String header = "{\"big\":{\"dtype\":\"F32\",\"shape\":[600000000],\"data_offsets\":[0," + big + "]},"
                + "\"small\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[" + big + "," + (big + 8) + "]}}";
        byte[] head = file(header, 0);
        Path p = dir.resolve("big.safetensors");
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.write(head);
            f.setLength(head.length + big + 8);
            f.seek(head.length + big);
            f.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(1.5f).putFloat(-3f).array());
        }
        try (SafeTensors st = SafeTensors.open(p)) {
            assertTrue(st.info("small").begin() > Integer.MAX_VALUE);
            assertArrayEquals(new float[] {1.5f, -3f}, st.load("small").data());
        }
    }

    @Test
    void failedWriteLeavesExistingFileIntact() throws IOException {
        Path p = dir.resolve("keep.safetensors");
        SafeTensorsWriter.write(p, Map.of("x", new Tensor(new float[] {1, 2}, 2)), null);
        byte[] before = Files.readAllBytes(p);
        Map<String, Tensor> bad = new LinkedHashMap<>();
        bad.put("ok", Tensor.zeros(3));
        bad.put("__metadata__", Tensor.zeros(1)); // a reserved name: rejected
        assertThrows(SafeTensorsException.class, () -> SafeTensorsWriter.write(p, bad, null));
        bad.clear();
        bad.put("null", null);
        assertThrows(SafeTensorsException.class, () -> SafeTensorsWriter.write(p, bad, null));
        assertArrayEquals(before, Files.readAllBytes(p));
        assertEquals(List.of(p), list(dir), "no temporary file left behind");
    }

    @Test
    void failureAfterTheTempFileIsWrittenDeletesIt() throws IOException {
        // The target is a non-empty directory, so the final rename fails after all data was written.
        Path target = Files.createDirectory(dir.resolve("taken.safetensors"));
        Path inside = Files.writeString(target.resolve("keep.txt"), "precious");
        assertThrows(IOException.class, () -> SafeTensorsWriter.write(target, Map.of("x", Tensor.zeros(1000)), null));
        assertEquals("precious", Files.readString(inside));
        assertEquals(List.of(target), list(dir), "no temporary file left behind");
    }

    @Test
    void unwritableDirectoryFails() throws IOException {
        Path notADir = Files.writeString(dir.resolve("plain-file"), "x");
        assertThrows(IOException.class,
                () -> SafeTensorsWriter.write(notADir.resolve("m.safetensors"), Map.of("x", Tensor.zeros(1)), null));
        assertEquals("x", Files.readString(notADir));
    }

    @Test
    void overwriteReplacesAndKeepsUsualPermissions() throws IOException {
        Path p = dir.resolve("m.safetensors");
        SafeTensorsWriter.write(p, Map.of("x", Tensor.zeros(1)), null);
        SafeTensorsWriter.write(p, Map.of("y", new Tensor(new float[] {4, 5}, 2)), null);
        try (SafeTensors st = SafeTensors.open(p)) {
            assertEquals(List.of("y"), List.copyOf(st.names()));
        }
        assertEquals(List.of(p), list(dir));
        if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            // A temp file from Files.createTempFile would be 0600; the result should look like any new file.
            Path plain = Files.createFile(dir.resolve("plain"));
            assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(p));
        }
    }

    static List<Path> list(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.sorted().toList();
        }
    }
}
