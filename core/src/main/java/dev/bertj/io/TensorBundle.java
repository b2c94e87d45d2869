package dev.bertj.io;

import dev.bertj.tensor.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.FileChannel.MapMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.CRC32C;

/**
 * A TensorFlow checkpoint (a "tensor bundle", as {@code tf.train.Saver} and SavedModel's
 * {@code variables/} write it), read in pure Java through a memory map.
 *
 * <p>{@code PREFIX.index} is a LevelDB-format table ({@link LevelDbTable}) mapping each variable
 * name to a {@code BundleEntryProto} (dtype, shape, shard, offset, size, masked crc32c); the empty
 * key holds the {@code BundleHeaderProto} (shard count, endianness). The tensors themselves are
 * raw little-endian bytes in {@code PREFIX.data-NNNNN-of-MMMMM}.
 *
 * <p>{@link #open} validates the whole index before anything is read: every dtype known and of
 * fixed size, sizes equal to the dtype size times the shape's product, every byte range inside its
 * data file, no two ranges overlapping. {@link #floats} copies one tensor out of the map and
 * verifies its crc32c. Errors name the file and the tensor. Compressed tables, big-endian
 * bundles, sliced (partitioned) variables and variable-size dtypes are refused by name.
 */
public final class TensorBundle implements AutoCloseable {
    /** Largest index file read into memory; real ones are kilobytes (one entry per variable). */
    static final long MAX_INDEX_BYTES = 1L << 30;
    private static final int MAX_RANK = 254; // TensorFlow's TensorShape limit
    private static final int MAX_SHARDS = 100_000;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** A malformed, corrupt or unsupported checkpoint; the message names the file and the tensor. */
    public static final class BundleException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        /** Creates an exception with a complete message. */
        public BundleException(String message) {
            super(message);
        }
    }

    /**
     * One variable's index entry.
     *
     * @param name the variable name, e.g. {@code bert/encoder/layer_0/attention/self/query/kernel}
     * @param dtype TensorFlow's DataType name, e.g. {@code DT_FLOAT}
     * @param shape the dimensions (a scalar has none)
     * @param shard which data file holds it
     * @param offset its first byte in that file
     * @param size its length in bytes
     * @param crc32c the crc32c of its bytes (unmasked)
     */
    public record Entry(String name, String dtype, long[] shape, int shard, long offset, long size, int crc32c) {
        /** Copies the shape, so an entry cannot be changed through it. */
        public Entry {
            shape = shape.clone();
        }

        /** The dimensions (a copy). */
        @Override
        public long[] shape() {
            return shape.clone();
        }

        /** The number of elements. */
        public long numel() {
            long n = 1;
            for (long d : shape) n *= d; // validated at open: no overflow
            return n;
        }

        /** The shape as {@link Tensor} dimensions. */
        public int[] intShape() {
            int[] s = new int[shape.length];
            for (int i = 0; i < s.length; i++) s[i] = Math.toIntExact(shape[i]);
            return s;
        }
    }

    private final Path index;
    private final Path[] dataFiles;
    private final Arena arena;
    private final MemorySegment[] data;
    private final Map<String, Entry> entries;

    private TensorBundle(Path index, Path[] dataFiles, Arena arena, MemorySegment[] data, Map<String, Entry> entries) {
        this.index = index;
        this.dataFiles = dataFiles;
        this.arena = arena;
        this.data = data;
        this.entries = entries;
    }

    /**
     * The checkpoint prefix for {@code path}: a SavedModel directory (its {@code variables/variables}),
     * a directory holding exactly one {@code *.index}, a {@code .index} file, or a prefix itself.
     */
    public static Path prefix(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            Path saved = path.resolve("variables").resolve("variables");
            if (Files.isRegularFile(indexOf(saved))) return saved;
            List<Path> found;
            try (var s = Files.list(path)) {
                found = s.filter(p -> p.getFileName().toString().endsWith(".index")).sorted().toList();
            }
            if (found.size() == 1) return withoutIndexSuffix(found.getFirst());
            throw new IOException(path + (found.isEmpty()
                    ? ": no TensorFlow checkpoint here: expected variables/variables.index (a SavedModel) or one *.index file"
                    : ": several checkpoints here (" + found.size() + " *.index files); name one by its prefix"));
        }
        if (path.getFileName() != null && path.getFileName().toString().endsWith(".index") && Files.isRegularFile(path)) {
            return withoutIndexSuffix(path);
        }
        if (Files.isRegularFile(indexOf(path))) return path;
        throw new IOException(path + ": no such TensorFlow checkpoint (neither a directory nor a prefix with " + indexOf(path).getFileName() + ")");
    }

    private static Path indexOf(Path prefix) {
        return prefix.resolveSibling(prefix.getFileName() + ".index");
    }

    private static Path withoutIndexSuffix(Path index) {
        String n = index.getFileName().toString();
        return index.resolveSibling(n.substring(0, n.length() - ".index".length()));
    }

    /** Opens the checkpoint at {@code path} (see {@link #prefix}), validating its whole index. */
    public static TensorBundle open(Path path) throws IOException {
        Path prefix = prefix(path);
        Path indexFile = indexOf(prefix);
        long indexSize = Files.size(indexFile);
        if (indexSize > MAX_INDEX_BYTES) {
            throw new BundleException(indexFile + ": " + indexSize + " bytes, over the " + MAX_INDEX_BYTES + "-byte limit for an index");
        }
        String src = indexFile.toString();
        List<LevelDbTable.Entry> table = LevelDbTable.read(src, Files.readAllBytes(indexFile));
        if (table.isEmpty() || !table.getFirst().key().isEmpty()) {
            throw new BundleException(src + ": no bundle header (the entry under the empty key); not a TensorFlow V2 checkpoint");
        }
        int shards = header(src, table.getFirst().value());
        Path[] files = new Path[shards];
        long[] sizes = new long[shards];
        for (int i = 0; i < shards; i++) {
            files[i] = prefix.resolveSibling(prefix.getFileName() + String.format(".data-%05d-of-%05d", i, shards));
            if (!Files.isRegularFile(files[i])) throw new IOException(files[i] + ": missing (the index " + indexFile.getFileName() + " names " + shards + " data file(s))");
            sizes[i] = Files.size(files[i]);
        }
        Map<String, Entry> entries = new LinkedHashMap<>();
        for (LevelDbTable.Entry e : table.subList(1, table.size())) {
            entries.put(e.key(), entry(src, e.key(), e.value(), shards, files, sizes));
        }
        checkOverlaps(entries.values(), files);
        Arena arena = Arena.ofShared();
        MemorySegment[] maps = new MemorySegment[shards];
        try {
            for (int i = 0; i < shards; i++) {
                try (FileChannel ch = FileChannel.open(files[i], StandardOpenOption.READ)) {
                    // The size checked above: a file that grew since is read only up to it.
                    maps[i] = sizes[i] == 0 ? MemorySegment.NULL : ch.map(MapMode.READ_ONLY, 0, sizes[i], arena);
                }
            }
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
        return new TensorBundle(indexFile, files, arena, maps, Collections.unmodifiableMap(entries));
    }

    /** The variable names, in the index's (sorted) order. */
    public Set<String> names() {
        return entries.keySet();
    }

    /** The entry of {@code name}, or null when the checkpoint has no such variable. */
    public Entry entry(String name) {
        return entries.get(name);
    }

    /** The index file this bundle was read from. */
    public Path indexFile() {
        return index;
    }

    /**
     * The float32 values of {@code name}, copied out of the memory map after its crc32c is verified.
     *
     * @throws BundleException if there is no such tensor, it is not DT_FLOAT, it has over 2^31-1
     *     elements, or its bytes do not match the recorded crc32c
     */
    public float[] floats(String name) {
        Entry e = entries.get(name);
        if (e == null) throw new BundleException(index + ": no tensor '" + name + "' in this checkpoint");
        String where = dataFiles[e.shard()] + ": tensor '" + name + "'";
        if (!e.dtype().equals("DT_FLOAT")) throw new BundleException(where + " has dtype " + e.dtype() + "; bertj reads DT_FLOAT (float32) only");
        if (e.numel() > Integer.MAX_VALUE - 8) throw new BundleException(where + " has " + e.numel() + " elements, more than a Java array holds");
        MemorySegment bytes = e.size() == 0 ? MemorySegment.NULL : data[e.shard()].asSlice(e.offset(), e.size());
        int crc = crc32c(bytes);
        if (crc != e.crc32c()) {
            throw new BundleException(where + ": crc32c mismatch (index says 0x" + Integer.toHexString(e.crc32c()) + ", data has 0x"
                    + Integer.toHexString(crc) + "): the data file is corrupt");
        }
        float[] out = new float[(int) e.numel()];
        if (out.length > 0) MemorySegment.copy(bytes, F32, 0, out, 0, out.length);
        return out;
    }

    /** {@link #floats} as a {@link Tensor} of the entry's shape. */
    public Tensor tensor(String name) {
        float[] v = floats(name);
        return new Tensor(v, entries.get(name).intShape());
    }

    @Override
    public void close() {
        arena.close();
    }

    @Override
    public String toString() {
        return "TensorBundle[" + index + ", " + entries.size() + " tensors]";
    }

    private static int crc32c(MemorySegment bytes) {
        CRC32C crc = new CRC32C();
        long chunk = 1 << 30;
        for (long at = 0; at < bytes.byteSize(); at += chunk) {
            crc.update(bytes.asSlice(at, Math.min(chunk, bytes.byteSize() - at)).asByteBuffer());
        }
        return (int) crc.getValue();
    }

    /** Reads the BundleHeaderProto (num_shards 1, endianness 2, version 3); returns the shard count. */
    private static int header(String src, byte[] value) {
        Proto p = new Proto(src + ": bundle header", value);
        long shards = 1, endianness = 0;
        while (p.next()) {
            switch (p.field) {
                case 1 -> shards = p.varint();
                case 2 -> endianness = p.varint();
                default -> p.skip();
            }
        }
        if (endianness != 0) throw new BundleException(src + ": a big-endian bundle (endianness " + endianness + "); bertj reads little-endian ones only");
        if (shards < 1 || shards > MAX_SHARDS) throw new BundleException(src + ": bundle header says " + shards + " shards (expected 1.." + MAX_SHARDS + ")");
        return (int) shards;
    }

    /** Parses and validates one BundleEntryProto. */
    private static Entry entry(String src, String name, byte[] value, int shards, Path[] files, long[] sizes) {
        String where = src + ": tensor '" + name + "'";
        Proto p = new Proto(where, value);
        long dtype = 0, shard = 0, offset = 0, size = 0;
        int crc = 0;
        boolean hasCrc = false;
        List<Long> dims = new ArrayList<>();
        while (p.next()) {
            switch (p.field) {
                case 1 -> dtype = p.varint();
                case 2 -> shape(p.message(), dims, where);
                case 3 -> shard = p.varint();
                case 4 -> offset = p.varint();
                case 5 -> size = p.varint();
                case 6 -> {
                    crc = p.fixed32();
                    hasCrc = true;
                }
                case 7 -> throw new BundleException(where + " is a slice of a partitioned variable; bertj reads whole tensors only");
                default -> p.skip();
            }
        }
        DType t = DType.of(dtype, where);
        if (dims.size() > MAX_RANK) throw new BundleException(where + " has rank " + dims.size() + ", over TensorFlow's " + MAX_RANK);
        long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
        long numel = 1;
        try {
            for (long d : shape) numel = Math.multiplyExact(numel, d);
            long expected = Math.multiplyExact(numel, t.bytes);
            if (size != expected) {
                throw new BundleException(where + ": size " + size + " bytes does not match dtype " + t.name() + " (" + t.bytes
                        + " bytes) times shape " + java.util.Arrays.toString(shape) + " = " + expected + " bytes");
            }
        } catch (ArithmeticException e) {
            throw new BundleException(where + ": shape " + java.util.Arrays.toString(shape) + " overflows a 64-bit size");
        }
        if (shard < 0 || shard >= shards) throw new BundleException(where + ": shard " + shard + " out of range (the bundle has " + shards + ")");
        long fileSize = sizes[(int) shard];
        if (offset < 0 || offset > fileSize || size > fileSize - offset) {
            throw new BundleException(files[(int) shard] + ": tensor '" + name + "' at offset " + offset + " with " + size
                    + " bytes runs past the end of the file (" + fileSize + " bytes): truncated data file or corrupt index");
        }
        if (!hasCrc && size > 0) throw new BundleException(where + " has no crc32c");
        return new Entry(name, t.name(), shape, (int) shard, offset, size, LevelDbTable.unmask(crc));
    }

    /** TensorShapeProto: dim (2, repeated Dim {size 1, name 2}), unknown_rank (3). */
    private static void shape(Proto p, List<Long> dims, String where) {
        while (p.next()) {
            switch (p.field) {
                case 2 -> {
                    Proto d = p.message();
                    long size = 0;
                    while (d.next()) {
                        if (d.field == 1) size = d.varint();
                        else d.skip();
                    }
                    if (size < 0) throw new BundleException(where + ": negative (unknown) dimension " + size);
                    if (dims.size() > MAX_RANK) throw new BundleException(where + ": rank over TensorFlow's " + MAX_RANK);
                    dims.add(size);
                }
                case 3 -> {
                    if (p.varint() != 0) throw new BundleException(where + ": shape of unknown rank");
                }
                default -> p.skip();
            }
        }
    }

    private static void checkOverlaps(java.util.Collection<Entry> all, Path[] files) {
        List<Entry> sorted = new ArrayList<>(all);
        sorted.removeIf(e -> e.size() == 0);
        sorted.sort(Comparator.comparingInt(Entry::shard).thenComparingLong(Entry::offset));
        for (int i = 1; i < sorted.size(); i++) {
            Entry a = sorted.get(i - 1), b = sorted.get(i);
            if (a.shard() == b.shard() && b.offset() < a.offset() + a.size()) {
                throw new BundleException(files[a.shard()] + ": tensors '" + a.name() + "' (bytes " + a.offset() + ".."
                        + (a.offset() + a.size()) + ") and '" + b.name() + "' (from byte " + b.offset() + ") overlap: corrupt index");
            }
        }
    }

    /** TensorFlow's DataType enum values with a fixed element size; the others are refused by name. */
    enum DType {
        DT_FLOAT(1, 4), DT_DOUBLE(2, 8), DT_INT32(3, 4), DT_UINT8(4, 1), DT_INT16(5, 2), DT_INT8(6, 1),
        DT_COMPLEX64(8, 8), DT_INT64(9, 8), DT_BOOL(10, 1), DT_QINT8(11, 1), DT_QUINT8(12, 1), DT_QINT32(13, 4),
        DT_BFLOAT16(14, 2), DT_QINT16(15, 2), DT_QUINT16(16, 2), DT_UINT16(17, 2), DT_COMPLEX128(18, 16),
        DT_HALF(19, 2), DT_UINT32(22, 4), DT_UINT64(23, 8);

        final int code, bytes;

        DType(int code, int bytes) {
            this.code = code;
            this.bytes = bytes;
        }

        static DType of(long code, String where) {
            for (DType t : values()) if (t.code == code) return t;
            String name = code == 7 ? "DT_STRING" : code == 20 ? "DT_RESOURCE" : code == 21 ? "DT_VARIANT" : null;
            if (name != null) throw new BundleException(where + " has dtype " + name + ", whose elements have no fixed size; bertj reads numeric tensors only");
            throw new BundleException(where + " has unknown dtype " + code + " (not a TensorFlow DataType bertj knows)");
        }
    }

    /** Protobuf wire-format fields over one message's bytes; lengths are checked against the message. */
    private static final class Proto {
        private final String where;
        private final byte[] b;
        private int pos;
        private final int end;
        int field, wire;

        Proto(String where, byte[] b) {
            this(where, b, 0, b.length);
        }

        private Proto(String where, byte[] b, int pos, int end) {
            this.where = where;
            this.b = b;
            this.pos = pos;
            this.end = end;
        }

        boolean next() {
            if (pos >= end) return false;
            long key = raw();
            field = (int) Math.min(key >>> 3, Integer.MAX_VALUE);
            wire = (int) (key & 7);
            if (field == 0) throw new BundleException(where + ": malformed entry (field number 0)");
            return true;
        }

        /** A varint field's value. */
        long varint() {
            if (wire != 0) throw new BundleException(where + ": malformed entry (field " + field + " should be a varint)");
            return raw();
        }

        private long raw() {
            long v = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                if (pos >= end) throw new BundleException(where + ": malformed entry (truncated varint)");
                int x = b[pos++];
                v |= (long) (x & 0x7f) << shift;
                if (x >= 0) return v;
            }
            throw new BundleException(where + ": malformed entry (varint over 10 bytes)");
        }

        int fixed32() {
            if (wire != 5 || end - pos < 4) throw new BundleException(where + ": malformed entry (expected a fixed32 field " + field + ")");
            int v = (b[pos] & 0xff) | (b[pos + 1] & 0xff) << 8 | (b[pos + 2] & 0xff) << 16 | (b[pos + 3] & 0xff) << 24;
            pos += 4;
            return v;
        }

        Proto message() {
            if (wire != 2) throw new BundleException(where + ": malformed entry (field " + field + " should be a message)");
            long n = raw();
            if (n < 0 || n > end - pos) throw new BundleException(where + ": malformed entry (field " + field + " of " + n + " bytes runs past its message)");
            Proto m = new Proto(where, b, pos, pos + (int) n);
            pos += (int) n;
            return m;
        }

        void skip() {
            switch (wire) {
                case 0 -> raw();
                case 1 -> advance(8);
                case 2 -> message();
                case 5 -> advance(4);
                default -> throw new BundleException(where + ": malformed entry (wire type " + wire + " in field " + field + ")");
            }
        }

        private void advance(int n) {
            if (end - pos < n) throw new BundleException(where + ": malformed entry (truncated field " + field + ")");
            pos += n;
        }
    }
}
