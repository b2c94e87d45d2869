package dev.bertj.io;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Writes small TensorFlow tensor bundles for tests, valid by default and broken on request: each
 * knob below produces one kind of hostile checkpoint. It follows the format as TensorFlow writes it
 * (LevelDB table with prefix-compressed keys, restart points, 5-byte block trailers with masked
 * crc32c, 48-byte footer; BundleEntryProto values; header under the empty key), written from the
 * format description, not from {@link TensorBundle}'s code. The real checkpoint test and the
 * Python-written fixture (scripts/make_tf_checkpoint_fixture.py) check that both agree with TensorFlow.
 */
final class BundleWriter {
    /** One variable. Null overrides mean "the correct value". */
    static final class Var {
        final String name;
        int dtype = 1;
        long[] shape;
        byte[] bytes;
        Long offset, size;
        Integer crc;
        boolean sliced;

        Var(String name, long[] shape, byte[] bytes) {
            this.name = name;
            this.shape = shape;
            this.bytes = bytes;
        }
    }

    final List<Var> vars = new ArrayList<>();
    int blockBytes = 4096;
    int restartInterval = 16;
    int compression = 0;
    boolean corruptBlockCrc;
    boolean header = true;
    long numShards = 1;
    long endianness = 0;
    Long restartCountOverride;

    /** Adds float32 values little-endian. */
    Var floats(String name, long[] shape, float... values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) b.putFloat(v);
        Var v = new Var(name, shape, b.array());
        vars.add(v);
        return v;
    }

    /** Adds an int64 scalar, as TF's global_step. */
    Var int64(String name, long value) {
        Var v = new Var(name, new long[0], ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array());
        v.dtype = 9;
        vars.add(v);
        return v;
    }

    static int maskCrc(int crc) {
        return Integer.rotateRight(crc, 15) + 0xa282ead8;
    }

    static int crc32c(byte[] b, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(b, off, len);
        return (int) c.getValue();
    }

    /** Writes {@code prefix.index} and {@code prefix.data-00000-of-00001}; returns the prefix. */
    Path write(Path prefix) throws IOException {
        Files.createDirectories(prefix.toAbsolutePath().getParent());
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        List<byte[][]> entries = new ArrayList<>();
        if (header) {
            ByteArrayOutputStream h = new ByteArrayOutputStream();
            tagVarint(h, 1, numShards);
            tagVarint(h, 2, endianness);
            entries.add(new byte[][] {new byte[0], h.toByteArray()});
        }
        List<Var> sorted = new ArrayList<>(vars);
        sorted.sort(Comparator.comparing(v -> v.name));
        for (Var v : sorted) {
            long offset = data.size();
            data.write(v.bytes);
            ByteArrayOutputStream e = new ByteArrayOutputStream();
            tagVarint(e, 1, v.dtype);
            ByteArrayOutputStream shape = new ByteArrayOutputStream();
            for (long d : v.shape) {
                ByteArrayOutputStream dim = new ByteArrayOutputStream();
                tagVarint(dim, 1, d);
                tagBytes(shape, 2, dim.toByteArray());
            }
            tagBytes(e, 2, shape.toByteArray());
            tagVarint(e, 4, v.offset != null ? v.offset : offset);
            tagVarint(e, 5, v.size != null ? v.size : v.bytes.length);
            varint(e, 6 << 3 | 5);
            int crc = v.crc != null ? v.crc : crc32c(v.bytes, 0, v.bytes.length);
            e.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(maskCrc(crc)).array());
            if (v.sliced) tagBytes(e, 7, new byte[0]);
            entries.add(new byte[][] {v.name.getBytes(StandardCharsets.UTF_8), e.toByteArray()});
        }
        Files.write(prefix.resolveSibling(prefix.getFileName() + ".data-00000-of-00001"), data.toByteArray());
        Files.write(prefix.resolveSibling(prefix.getFileName() + ".index"), table(entries));
        return prefix;
    }

    private byte[] table(List<byte[][]> entries) throws IOException {
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        List<byte[][]> index = new ArrayList<>();
        Block block = new Block();
        byte[] last = null;
        for (byte[][] kv : entries) {
            block.add(kv[0], kv[1]);
            last = kv[0];
            if (block.size() >= blockBytes) {
                index.add(new byte[][] {last, emit(file, block.finish(), compression)});
                block = new Block();
            }
        }
        if (block.count > 0) index.add(new byte[][] {last, emit(file, block.finish(), compression)});
        byte[] meta = emit(file, new Block().finish(), 0);
        Block ib = new Block();
        for (byte[][] kv : index) ib.add(kv[0], kv[1]);
        byte[] idx = emit(file, ib.finish(), 0);
        ByteBuffer footer = ByteBuffer.allocate(48).order(ByteOrder.LITTLE_ENDIAN);
        footer.put(meta).put(idx);
        footer.position(40);
        footer.putLong(0xdb4775248b80fb57L);
        file.write(footer.array());
        return file.toByteArray();
    }

    /** Appends a block and its trailer; returns its handle (offset, size varints). */
    private byte[] emit(ByteArrayOutputStream file, byte[] contents, int type) throws IOException {
        long offset = file.size();
        byte[] withType = new byte[contents.length + 1];
        System.arraycopy(contents, 0, withType, 0, contents.length);
        withType[contents.length] = (byte) type;
        int crc = crc32c(withType, 0, withType.length);
        if (corruptBlockCrc) crc ^= 1;
        file.write(withType);
        file.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(maskCrc(crc)).array());
        ByteArrayOutputStream h = new ByteArrayOutputStream();
        varint(h, offset);
        varint(h, contents.length);
        return h.toByteArray();
    }

    /** A block under construction: shared-prefix entries, a restart every {@code restartInterval}. */
    private final class Block {
        final ByteArrayOutputStream buf = new ByteArrayOutputStream();
        final List<Integer> restarts = new ArrayList<>();
        byte[] lastKey = new byte[0];
        int count;

        void add(byte[] key, byte[] value) {
            int shared = 0;
            if (count % restartInterval == 0) {
                restarts.add(buf.size());
            } else {
                while (shared < Math.min(key.length, lastKey.length) && key[shared] == lastKey[shared]) shared++;
            }
            varint(buf, shared);
            varint(buf, key.length - shared);
            varint(buf, value.length);
            buf.write(key, shared, key.length - shared);
            buf.write(value, 0, value.length);
            lastKey = key;
            count++;
        }

        int size() {
            return buf.size();
        }

        byte[] finish() {
            if (restarts.isEmpty()) restarts.add(0);
            ByteBuffer tail = ByteBuffer.allocate(4 * restarts.size() + 4).order(ByteOrder.LITTLE_ENDIAN);
            for (int r : restarts) tail.putInt(r);
            tail.putInt((int) (restartCountOverride != null ? (long) restartCountOverride : restarts.size()));
            byte[] body = buf.toByteArray();
            byte[] out = new byte[body.length + tail.capacity()];
            System.arraycopy(body, 0, out, 0, body.length);
            System.arraycopy(tail.array(), 0, out, body.length, tail.capacity());
            return out;
        }
    }

    static void varint(ByteArrayOutputStream out, long v) {
        while ((v & ~0x7fL) != 0) {
            out.write((int) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }

    private static void tagVarint(ByteArrayOutputStream out, int field, long v) {
        varint(out, (long) field << 3);
        varint(out, v);
    }

    private static void tagBytes(ByteArrayOutputStream out, int field, byte[] b) {
        varint(out, (long) field << 3 | 2);
        varint(out, b.length);
        out.write(b, 0, b.length);
    }
}
