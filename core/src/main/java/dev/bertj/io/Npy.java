package dev.bertj.io;

import dev.bertj.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.LongBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * NumPy {@code .npy} files (the <a href="https://numpy.org/neps/nep-0001-npy-format.html">NEP 1
 * format</a>), little-endian and C order: enough to hand arrays to and from Python for parity
 * tests.
 *
 * <p>Writing produces the bytes {@code numpy.save} produces (version 1.0, the header dict in
 * sorted-key order, the spare spaces NumPy 2 leaves for growing the first axis, padding to 64
 * bytes), atomically like {@link SafeTensorsWriter}. Reading accepts versions 1.0 to 3.0 with
 * dtypes {@code <f4}, {@code <f8} (narrowed to float), {@code <i8} and {@code <i4} (widened to
 * long), and {@code fortran_order} False.
 */
public final class Npy {

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final int ALIGN = 64; // numpy's ARRAY_ALIGN
    private static final int GROWTH_AXIS_MAX_DIGITS = 21; // numpy 2: room to rewrite shape[0] in place
    private static final int BUFFER_BYTES = 1 << 16;
    /**
     * Largest header read: 64 KiB. numpy itself refuses headers over 10,000 bytes unless told
     * otherwise (max_header_size); a rank-64 shape needs under 2,000.
     */
    public static final int MAX_HEADER_BYTES = 1 << 16;
    /** Most dimensions accepted: numpy's own limit (NPY_MAXDIMS, 64 since numpy 2). */
    public static final int MAX_RANK = 64;

    private Npy() {}

    /** A malformed or unsupported file, or arguments that disagree; the message names the file. */
    public static final class NpyException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        /** Creates an exception with a complete message. */
        public NpyException(String message) {
            super(message);
        }
    }

    /**
     * An array read from a file: exactly one of {@code floats} and {@code longs} is non-null. The
     * arrays are not copied.
     *
     * @param shape the dimensions; empty for a 0-d array
     * @param floats the values in C order, for a float file
     * @param longs the values in C order, for an integer file
     */
    public record Array(int[] shape, float[] floats, long[] longs) {
        /** Number of elements. */
        public int size() {
            return floats != null ? floats.length : longs.length;
        }

        /** The floats as a tensor sharing the array; throws if this array holds integers. */
        public Tensor tensor() {
            if (floats == null) throw new NpyException("an integer array is not a float tensor");
            return new Tensor(floats, shape);
        }

        @Override
        public String toString() {
            return "Npy.Array[" + (floats != null ? "float32" : "int64") + " " + Arrays.toString(shape) + "]";
        }
    }

    /**
     * Writes {@code data} as {@code <f4}.
     *
     * @param shape the dimensions, whose product must be {@code data.length}; none for a 0-d array
     * @throws NpyException if the shape does not fit the data; nothing is written then
     */
    public static void writeFloat32(Path file, float[] data, int... shape) throws IOException {
        byte[] header = header(file, "<f4", shape, data.length);
        AtomicFiles.write(file, ch -> {
            AtomicFiles.writeFully(ch, ByteBuffer.wrap(header));
            SafeTensorsWriter.writeFloats(ch, ByteBuffer.allocateDirect(BUFFER_BYTES).order(ByteOrder.LITTLE_ENDIAN), data);
        });
    }

    /**
     * Writes {@code data} as {@code <i8}.
     *
     * @throws NpyException if the shape does not fit the data; nothing is written then
     */
    public static void writeInt64(Path file, long[] data, int... shape) throws IOException {
        writeLongs(file, data.length, shape, (dst, from, len) -> dst.put(data, from, len));
    }

    /**
     * Writes {@code data} widened to {@code <i8}, the dtype PyTorch and HF use for token ids.
     *
     * @throws NpyException if the shape does not fit the data; nothing is written then
     */
    public static void writeInt64(Path file, int[] data, int... shape) throws IOException {
        writeLongs(file, data.length, shape, (dst, from, len) -> {
            for (int i = from; i < from + len; i++) dst.put(data[i]);
        });
    }

    private interface LongSource {
        void copy(LongBuffer dst, int from, int len);
    }

    private static void writeLongs(Path file, int count, int[] shape, LongSource src) throws IOException {
        byte[] header = header(file, "<i8", shape, count);
        AtomicFiles.write(file, ch -> {
            AtomicFiles.writeFully(ch, ByteBuffer.wrap(header));
            ByteBuffer buf = ByteBuffer.allocateDirect(BUFFER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            LongBuffer longs = buf.asLongBuffer();
            for (int at = 0; at < count; ) {
                int len = Math.min(longs.capacity(), count - at);
                longs.clear();
                src.copy(longs, at, len);
                buf.clear().limit(8 * len);
                AtomicFiles.writeFully(ch, buf);
                at += len;
            }
        });
    }

    /** Magic, version, header length and the padded header dict, exactly as numpy.save writes them. */
    static byte[] header(Path file, String descr, int[] shape, int count) {
        if (shape.length > MAX_RANK) throw new NpyException(file + ": " + shape.length + " dimensions, more than the limit of " + MAX_RANK);
        for (int d : shape) {
            if (d < 0) throw new NpyException(file + ": negative dimension in shape " + Arrays.toString(shape));
        }
        long numel = numel(shape);
        if (numel != count) {
            throw new NpyException(file + ": shape " + Arrays.toString(shape) + " holds " + numel
                    + " values but data has " + count);
        }
        StringBuilder dict = new StringBuilder("{'descr': '").append(descr).append("', 'fortran_order': False, 'shape': (");
        for (int i = 0; i < shape.length; i++) dict.append(i > 0 ? ", " : "").append(shape[i]);
        dict.append(shape.length == 1 ? ",), }" : "), }"); // Python's tuple repr: (3,) and ()
        if (shape.length > 0) dict.append(" ".repeat(GROWTH_AXIS_MAX_DIGITS - Integer.toString(shape[0]).length()));
        // Version 1.0 stores the header length in 2 bytes; numpy falls back to 2.0 (4 bytes) beyond that.
        int prefix = 8 + 2;
        int hlen = dict.length() + 1; // + the final newline
        int total = roundUp(prefix + hlen);
        if (total - prefix > 0xFFFF) {
            prefix = 8 + 4;
            total = roundUp(prefix + hlen);
        }
        ByteBuffer out = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
        out.put(MAGIC).put((byte) (prefix == 10 ? 1 : 2)).put((byte) 0);
        if (prefix == 10) out.putShort((short) (total - prefix));
        else out.putInt(total - prefix);
        out.put(dict.toString().getBytes(StandardCharsets.ISO_8859_1));
        while (out.position() < total - 1) out.put((byte) ' ');
        out.put((byte) '\n');
        return out.array();
    }

    /** Product of non-negative dims, capped at 2^32: callers only compare it with array sizes. */
    private static long numel(int[] shape) {
        for (int d : shape) if (d == 0) return 0;
        long n = 1;
        for (int d : shape) n = Math.min(n * d, 1L << 32); // < 2^32 * 2^31, so no overflow
        return n;
    }

    private static int roundUp(int n) {
        // numpy always pads at least one byte: a full block of spaces when already aligned.
        return (n / ALIGN + 1) * ALIGN;
    }

    /**
     * Reads a float file ({@code <f4}, or {@code <f8} narrowed to float).
     *
     * @throws NpyException if the file is malformed, unsupported, or holds integers
     */
    public static Array readFloat32(Path file) throws IOException {
        Array a = read(file);
        if (a.floats() == null) throw new NpyException(file + ": holds integers; use readInt64");
        return a;
    }

    /**
     * Reads an integer file ({@code <i8}, or {@code <i4} widened to long).
     *
     * @throws NpyException if the file is malformed, unsupported, or holds floats
     */
    public static Array readInt64(Path file) throws IOException {
        Array a = read(file);
        if (a.longs() == null) throw new NpyException(file + ": holds floats; use readFloat32");
        return a;
    }

    /**
     * Reads any supported file: floats for {@code <f4}/{@code <f8}, longs for {@code <i8}/{@code <i4}.
     *
     * @throws NpyException if the file is malformed or unsupported
     */
    public static Array read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            ByteBuffer pre = readExactly(ch, file, 0, (int) Math.min(size, 12), "the magic string");
            byte[] magic = new byte[Math.min(pre.remaining(), 6)];
            pre.get(magic);
            if (!Arrays.equals(magic, MAGIC)) throw new NpyException(file + ": not a .npy file (no \\x93NUMPY magic)");
            if (pre.remaining() < 4) throw new NpyException(file + ": truncated header");
            int major = pre.get() & 0xFF;
            int minor = pre.get() & 0xFF;
            if (major < 1 || major > 3) throw new NpyException(file + ": unsupported .npy version " + major + "." + minor);
            long hlen = major == 1 ? pre.getShort() & 0xFFFF : pre.remaining() >= 4 ? pre.getInt() & 0xFFFFFFFFL : -1;
            int start = major == 1 ? 10 : 12;
            if (hlen > MAX_HEADER_BYTES) {
                throw new NpyException(String.format("%s: header of %,d bytes is more than the limit of %,d", file, hlen, MAX_HEADER_BYTES));
            }
            if (hlen < 0 || start + hlen > size) throw new NpyException(file + ": header runs past the end of the file; truncated?");
            ByteBuffer hb = readExactly(ch, file, start, (int) hlen, "the header");
            String text = new String(hb.array(), major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
            Map<String, Object> dict = new DictParser(file, text).dict();
            if (!dict.keySet().equals(Set.of("descr", "fortran_order", "shape"))) {
                throw new NpyException(file + ": header keys must be descr, fortran_order and shape, not " + dict.keySet());
            }
            if (!(dict.get("descr") instanceof String descr)) throw new NpyException(file + ": descr must be a string");
            int itemSize = switch (descr) {
                case "<f4", "<i4" -> 4;
                case "<f8", "<i8" -> 8;
                default -> throw new NpyException(file + ": dtype '" + descr + "' is not supported; bertj reads <f4, <f8, <i4 and <i8");
            };
            if (!Boolean.FALSE.equals(dict.get("fortran_order"))) {
                throw new NpyException(file + ": fortran_order must be False; save a C-ordered array (np.ascontiguousarray)");
            }
            if (!(dict.get("shape") instanceof int[] shape)) throw new NpyException(file + ": shape must be a tuple of integers");
            if (shape.length > MAX_RANK) {
                throw new NpyException(file + ": shape has " + shape.length + " dimensions, more than the limit of " + MAX_RANK);
            }
            long numel = numel(shape);
            long dataStart = start + hlen;
            long need = numel * itemSize;
            if (numel > Integer.MAX_VALUE - 8) throw new NpyException(file + ": shape " + Arrays.toString(shape) + " is too large for one Java array");
            if (size - dataStart != need) {
                throw new NpyException(file + ": shape " + Arrays.toString(shape) + " of " + descr + " needs " + need
                        + " data bytes but the file has " + (size - dataStart) + (size - dataStart < need ? "; truncated?" : ""));
            }
            int n = (int) numel;
            float[] floats = descr.charAt(1) == 'f' ? new float[n] : null;
            long[] longs = floats == null ? new long[n] : null;
            ByteBuffer buf = ByteBuffer.allocateDirect(BUFFER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            long pos = dataStart;
            for (int at = 0; at < n; ) {
                int len = Math.min(BUFFER_BYTES / itemSize, n - at);
                buf.clear().limit(len * itemSize);
                while (buf.hasRemaining()) {
                    if (ch.read(buf, pos + buf.position()) < 0) throw new NpyException(file + ": truncated data");
                }
                buf.flip();
                for (int i = at; i < at + len; i++) {
                    switch (descr) {
                        case "<f4" -> floats[i] = buf.getFloat();
                        case "<f8" -> floats[i] = (float) buf.getDouble();
                        case "<i4" -> longs[i] = buf.getInt();
                        default -> longs[i] = buf.getLong();
                    }
                }
                pos += (long) len * itemSize;
                at += len;
            }
            return new Array(shape, floats, longs);
        }
    }

    private static ByteBuffer readExactly(FileChannel ch, Path file, long pos, int len, String what) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(len).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            if (ch.read(b, pos + b.position()) < 0) throw new NpyException(file + ": file ends inside " + what);
        }
        return b.flip();
    }

    /** The Python literal subset numpy writes: a dict of strings, booleans and int tuples. */
    private static final class DictParser {
        private final Path file;
        private final String s;
        private int pos;

        DictParser(Path file, String s) {
            this.file = file;
            this.s = s;
        }

        Map<String, Object> dict() {
            Map<String, Object> out = new LinkedHashMap<>();
            expect('{');
            while (!peekIs('}')) {
                String key = string();
                expect(':');
                out.put(key, value());
                if (!peekIs('}')) expect(',');
            }
            expect('}');
            skipSpace();
            if (pos != s.length()) throw error("unexpected text after the header dict");
            return out;
        }

        Object value() {
            skipSpace();
            if (pos >= s.length()) throw error("missing value");
            char c = s.charAt(pos);
            if (c == '\'' || c == '"') return string();
            if (s.startsWith("True", pos)) { pos += 4; return Boolean.TRUE; }
            if (s.startsWith("False", pos)) { pos += 5; return Boolean.FALSE; }
            if (c != '(') throw error("unsupported value");
            pos++;
            List<Integer> dims = new ArrayList<>();
            while (!peekIs(')')) {
                dims.add(integer());
                if (!peekIs(')')) expect(',');
            }
            expect(')');
            return dims.stream().mapToInt(Integer::intValue).toArray();
        }

        int integer() {
            skipSpace();
            int start = pos;
            while (pos < s.length() && Character.isDigit(s.charAt(pos)) && s.charAt(pos) < 128) pos++;
            try {
                return Integer.parseInt(s, start, pos, 10);
            } catch (NumberFormatException e) {
                throw error("shape must hold non-negative integers below 2^31");
            }
        }

        String string() {
            skipSpace();
            char q = pos < s.length() ? s.charAt(pos) : 0;
            if (q != '\'' && q != '"') throw error("expected a quoted string");
            int end = s.indexOf(q, pos + 1);
            if (end < 0) throw error("unterminated string");
            String v = s.substring(pos + 1, end);
            pos = end + 1;
            return v;
        }

        boolean peekIs(char c) {
            skipSpace();
            return pos < s.length() && s.charAt(pos) == c;
        }

        void expect(char c) {
            if (!peekIs(c)) throw error("expected '" + c + "'");
            pos++;
        }

        void skipSpace() {
            while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) pos++;
        }

        NpyException error(String message) {
            String header = s.strip();
            if (header.length() > 200) header = header.substring(0, 200) + "...";
            return new NpyException(file + ": bad header at offset " + pos + ": " + message + " in " + header);
        }
    }
}
