package dev.bertj.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bertj.io.Npy.NpyException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyTest {

    @TempDir
    Path dir;

    /**
     * The header numpy 2.4.6 writes: {@code np.save(f, a)} then {@code f.getvalue()[:128]}, for
     * {@code np.arange(6, dtype='<f4').reshape(2, 3)}. 10 prefix bytes + 118 = 128, a multiple of 64;
     * the run of spaces after the dict is numpy 2's room to grow shape[0] in place plus alignment.
     */
    private static final String NUMPY_2x3_F4 = "\u0093NUMPY\u0001\u0000v\u0000"
            + "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }" + " ".repeat(58) + "\n";

    private static byte[] latin1(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static byte[] prefix(byte[] file, int n) {
        return Arrays.copyOf(file, n);
    }

    @Test
    void float32HeaderMatchesNumpyByteForByte() throws IOException {
        Path p = dir.resolve("a.npy");
        Npy.writeFloat32(p, new float[] {0, 1, 2, 3, 4, 5}, 2, 3);
        byte[] bytes = Files.readAllBytes(p);
        assertEquals(128 + 24, bytes.length); // numpy's file is 152 bytes
        assertArrayEquals(latin1(NUMPY_2x3_F4), prefix(bytes, 128));
    }

    @Test
    void otherHeadersMatchNumpy() {
        // From numpy 2.4.6 np.save on: np.array([1, 2, 3], dtype='<i8'); np.array(2.5, dtype='<f4');
        // np.zeros((0, 4), dtype='<f4'). Every header is 118 bytes after the 10-byte prefix.
        assertHeader("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }" + " ".repeat(60), "<i8", 3);
        assertHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (), }" + " ".repeat(62), "<f4");
        assertHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4), }" + " ".repeat(58), "<f4", 0, 4);
    }

    private static void assertHeader(String dict, String descr, int... shape) {
        long n = 1;
        for (int d : shape) n *= d;
        byte[] want = latin1("\u0093NUMPY\u0001\u0000v\u0000" + dict + "\n");
        assertArrayEquals(want, Npy.header(Path.of("x.npy"), descr, shape, (int) n), dict);
    }

    @Test
    void roundTrips() throws IOException {
        Path f = dir.resolve("f.npy");
        float[] floats = {1.5f, -0f, Float.NaN, Float.MAX_VALUE, Float.MIN_VALUE, 3, 4, 5, 6, 7, 8, 9};
        Npy.writeFloat32(f, floats, 2, 3, 2);
        Npy.Array a = Npy.readFloat32(f);
        assertArrayEquals(new int[] {2, 3, 2}, a.shape());
        assertArrayEquals(floats, a.floats());
        assertNull(a.longs());
        assertArrayEquals(new int[] {2, 3, 2}, a.tensor().shape());

        Path l = dir.resolve("l.npy");
        long[] longs = {Long.MIN_VALUE, -1, 0, 1, Long.MAX_VALUE, 101};
        Npy.writeInt64(l, longs, 3, 2);
        assertArrayEquals(longs, Npy.readInt64(l).longs());

        Path i = dir.resolve("i.npy");
        Npy.writeInt64(i, new int[] {101, 7592, 102, Integer.MIN_VALUE}, 1, 4);
        Npy.Array ids = Npy.readInt64(i);
        assertArrayEquals(new long[] {101, 7592, 102, Integer.MIN_VALUE}, ids.longs());
        assertArrayEquals(new int[] {1, 4}, ids.shape());

        Path s = dir.resolve("s.npy");
        Npy.writeFloat32(s, new float[] {2.5f}); // no dims: a 0-d array, as np.array(2.5)
        assertArrayEquals(new int[0], Npy.read(s).shape());
        Npy.writeFloat32(s, new float[0], 0, 4);
        assertEquals(0, Npy.read(s).size());
    }

    @Test
    void largeArraysCrossBufferBoundaries() throws IOException {
        int n = 100_003; // several 64 KB buffers, and a ragged last one
        float[] floats = new float[n];
        long[] longs = new long[n];
        for (int k = 0; k < n; k++) {
            floats[k] = k * 0.5f;
            longs[k] = k * 3L - 7;
        }
        Path f = dir.resolve("f.npy");
        Npy.writeFloat32(f, floats, n);
        assertArrayEquals(floats, Npy.readFloat32(f).floats());
        Npy.writeInt64(f, longs, n);
        assertArrayEquals(longs, Npy.readInt64(f).longs());
    }

    /** A hand-built .npy file: the given dict as a version {@code major} header, then {@code data}. */
    private Path npy(String name, int major, String dict, byte[] data) throws IOException {
        int prefix = major == 1 ? 10 : 12;
        int total = ((prefix + dict.length() + 1) / 64 + 1) * 64;
        ByteBuffer b = ByteBuffer.allocate(total + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(latin1("\u0093NUMPY")).put((byte) major).put((byte) 0);
        if (major == 1) b.putShort((short) (total - prefix));
        else b.putInt(total - prefix);
        b.put(latin1(dict));
        while (b.position() < total - 1) b.put((byte) ' ');
        b.put((byte) '\n').put(data);
        return Files.write(dir.resolve(name), b.array());
    }

    @Test
    void readsF8AndI4AndVersion2() throws IOException {
        ByteBuffer d = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putDouble(0.1).putDouble(-1e300);
        Npy.Array a = Npy.readFloat32(npy("d.npy", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", d.array()));
        assertArrayEquals(new float[] {0.1f, Float.NEGATIVE_INFINITY}, a.floats()); // narrowed as a Java cast
        ByteBuffer i = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(-5).putInt(Integer.MAX_VALUE);
        Npy.Array b = Npy.readInt64(npy("i.npy", 2, "{\"descr\": \"<i4\", \"shape\": (1, 2), \"fortran_order\": False}", i.array()));
        assertArrayEquals(new long[] {-5, Integer.MAX_VALUE}, b.longs());
        assertArrayEquals(new int[] {1, 2}, b.shape());
    }

    @Test
    void unsupportedOrMalformedFilesNameTheFile() throws IOException {
        String ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
        byte[] eight = new byte[8];
        List<Object[]> cases = List.of(
                new Object[] {npy("be.npy", 1, ok.replace("<f4", ">f4"), eight), "dtype '>f4' is not supported"},
                new Object[] {npy("u8.npy", 1, ok.replace("<f4", "|u1"), new byte[2]), "dtype '|u1'"},
                new Object[] {npy("fo.npy", 1, ok.replace("False", "True"), eight), "fortran_order must be False"},
                new Object[] {npy("short.npy", 1, ok, new byte[5]), "needs 8 data bytes but the file has 5; truncated?"},
                new Object[] {npy("long.npy", 1, ok, new byte[12]), "needs 8 data bytes but the file has 12"},
                new Object[] {npy("neg.npy", 1, ok.replace("(2,)", "(-2,)"), eight), "non-negative integers"},
                new Object[] {npy("keys.npy", 1, "{'descr': '<f4', 'shape': (2,), }", eight), "header keys"},
                new Object[] {npy("v9.npy", 9, ok, eight), "unsupported .npy version 9.0"},
                new Object[] {Files.write(dir.resolve("magic.npy"), latin1("PK\u0003\u0004 zip, not npy")), "not a .npy file"},
                new Object[] {Files.write(dir.resolve("tiny.npy"), latin1("\u0093NUMPY\u0001")), "truncated header"},
                new Object[] {Files.write(dir.resolve("cut.npy"), prefix(latin1(NUMPY_2x3_F4), 60)), "header runs past the end"});
        for (Object[] c : cases) {
            Path p = (Path) c[0];
            String m = assertThrows(NpyException.class, () -> Npy.read(p), p.toString()).getMessage();
            assertTrue(m.startsWith(p + ": ") && m.contains((String) c[1]), m);
        }
    }

    @Test
    void readerChecksTheElementKind() throws IOException {
        Path f = dir.resolve("f.npy");
        Npy.writeFloat32(f, new float[] {1}, 1);
        String m = assertThrows(NpyException.class, () -> Npy.readInt64(f)).getMessage();
        assertTrue(m.contains(f + ": holds floats"), m);
        Npy.writeInt64(f, new long[] {1}, 1);
        m = assertThrows(NpyException.class, () -> Npy.readFloat32(f)).getMessage();
        assertTrue(m.contains(f + ": holds integers"), m);
    }

    @Test
    void failedWriteLeavesExistingFileIntact() throws IOException {
        Path p = dir.resolve("keep.npy");
        Npy.writeFloat32(p, new float[] {1, 2, 3}, 3);
        byte[] before = Files.readAllBytes(p);
        String m = assertThrows(NpyException.class, () -> Npy.writeFloat32(p, new float[] {1, 2}, 3)).getMessage();
        assertTrue(m.contains(p + ": shape [3] holds 3 values but data has 2"), m);
        assertThrows(NpyException.class, () -> Npy.writeInt64(p, new int[] {1}, -1));
        // The target is a non-empty directory: the rename fails after the data is written.
        Path taken = Files.createDirectory(dir.resolve("taken.npy"));
        Files.writeString(taken.resolve("x"), "x");
        assertThrows(IOException.class, () -> Npy.writeInt64(taken, new long[] {1, 2}, 2));
        assertArrayEquals(before, Files.readAllBytes(p));
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(p, taken), s.sorted().toList(), "no temporary file left behind");
        }
    }
}
