package dev.bertj.io;

import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Reads a LevelDB-format sorted string table held in memory, as TensorFlow writes the
 * {@code .index} file of a tensor bundle ({@code tensorflow/core/lib/io/table*}).
 *
 * <p>Layout: data blocks, a metaindex block, an index block, then a 48-byte footer (the two
 * blocks' handles as varints, zero padding, the magic {@code 0xdb4775248b80fb57} little-endian).
 * Every block is followed by a 5-byte trailer: a compression byte (0 none, 1 snappy) and the
 * masked crc32c of the block contents plus that byte. A block is a run of prefix-compressed
 * entries ({@code shared}, {@code non_shared}, {@code value_length} varints, the key's new suffix,
 * the value), then the restart offsets (uint32 each, where an entry stores its whole key), then
 * their count. The index block maps a separator key to each data block's handle.
 *
 * <p>Every length and offset is checked against the bytes that hold it before use, so a hostile
 * file gives an exception naming the file and the byte offset, never a huge allocation.
 */
final class LevelDbTable {
    static final long MAGIC = 0xdb4775248b80fb57L;
    static final int FOOTER = 48;
    private static final int TRAILER = 5;
    private static final int MASK_DELTA = 0xa282ead8;

    /** One key/value pair; {@code value} is a copy. */
    record Entry(String key, byte[] value) { }

    private final String source;
    private final byte[] b;

    private LevelDbTable(String source, byte[] bytes) {
        this.source = source;
        this.b = bytes;
    }

    /** All entries of the table in {@code bytes}, in key order; {@code source} names the file in errors. */
    static List<Entry> read(String source, byte[] bytes) {
        return new LevelDbTable(source, bytes).entries();
    }

    /** LevelDB's crc mask: stored crcs are rotated and offset, so a crc of data that holds crcs stays strong. */
    static int mask(int crc) {
        return ((crc >>> 15) | (crc << 17)) + MASK_DELTA;
    }

    /** The inverse of {@link #mask}. */
    static int unmask(int masked) {
        int rot = masked - MASK_DELTA;
        return (rot >>> 17) | (rot << 15);
    }

    private TensorBundle.BundleException fail(String what) {
        return new TensorBundle.BundleException(source + ": " + what);
    }

    private List<Entry> entries() {
        if (b.length < FOOTER) throw fail("only " + b.length + " bytes, shorter than the 48-byte table footer (not a TensorFlow index file, or truncated)");
        int footer = b.length - FOOTER;
        long magic = fixed64(b.length - 8);
        if (magic != MAGIC) {
            throw fail("bad table magic 0x" + Long.toHexString(magic) + " (expected 0x" + Long.toHexString(MAGIC)
                    + "): not a TensorFlow index file, or truncated");
        }
        int[] pos = {footer};
        long[] meta = handle(pos, footer + 40, "footer's metaindex handle");
        long[] index = handle(pos, footer + 40, "footer's index handle");
        checkHandle(meta, footer, "metaindex block");
        checkHandle(index, footer, "index block");
        List<Entry> out = new ArrayList<>();
        byte[] lastKey = null;
        for (Entry ie : block((int) index[0], (int) index[1], "index block")) {
            int[] p = {0};
            long[] h = handleIn(ie.value(), p, "index entry '" + ie.key() + "'");
            checkHandle(h, footer, "data block (index entry '" + ie.key() + "')");
            for (Entry e : block((int) h[0], (int) h[1], "data block at offset " + h[0])) {
                byte[] k = e.key().getBytes(StandardCharsets.UTF_8);
                if (lastKey != null && Arrays.compareUnsigned(lastKey, k) >= 0) {
                    throw fail("keys out of order or duplicated at '" + e.key() + "' in the data block at offset " + h[0]);
                }
                lastKey = k;
                out.add(e);
            }
        }
        return out;
    }

    private void checkHandle(long[] h, int limit, String what) {
        // The block and its 5-byte trailer must lie before the footer.
        if (h[0] < 0 || h[1] < 0 || h[0] > limit || h[1] > limit - h[0] - TRAILER) {
            throw fail(what + " at offset " + h[0] + " with size " + h[1] + " runs past the end of the table data ("
                    + limit + " bytes before the footer)");
        }
    }

    /** Decodes one block: checks its trailer, then its entries and restart points. */
    private List<Entry> block(int off, int size, String what) {
        int type = b[off + size] & 0xff;
        if (type == 1) throw fail(what + " is snappy-compressed (compression type 1); bertj reads uncompressed tables only");
        if (type != 0) throw fail(what + " has unknown compression type " + type);
        CRC32C crc = new CRC32C();
        crc.update(b, off, size + 1); // contents plus the type byte, as the writer computes it
        int stored = (int) fixed32(off + size + 1);
        if (unmask(stored) != (int) crc.getValue()) {
            throw fail(what + " at offset " + off + ": crc32c mismatch (stored 0x" + Integer.toHexString(unmask(stored))
                    + ", computed 0x" + Long.toHexString(crc.getValue()) + "): the index file is corrupt");
        }
        if (size < 4) throw fail(what + " at offset " + off + " is " + size + " bytes, too short for its restart count");
        long restarts = fixed32(off + size - 4);
        long restartBytes = 4 * (restarts + 1);
        if (restarts < 1 || restartBytes > size) {
            throw fail(what + " at offset " + off + " claims " + restarts + " restart points, which do not fit its " + size + " bytes");
        }
        int end = off + size - (int) restartBytes;
        int[] restartAt = new int[(int) restarts];
        for (int i = 0; i < restarts; i++) {
            long r = fixed32(end + 4 * i);
            if (r >= end - off && !(r == 0 && end == off)) {
                throw fail(what + " at offset " + off + ": restart point " + i + " (" + r + ") lies outside its entries");
            }
            restartAt[i] = off + (int) r;
        }
        List<Entry> out = new ArrayList<>();
        byte[] key = new byte[0];
        int[] pos = {off};
        int nextRestart = 0;
        while (pos[0] < end) {
            int at = pos[0];
            boolean restart = nextRestart < restartAt.length && restartAt[nextRestart] == at;
            if (nextRestart < restartAt.length && restartAt[nextRestart] < at) {
                throw fail(what + " at offset " + off + ": restart point " + nextRestart + " does not start an entry");
            }
            long shared = varint(pos, end, what);
            long nonShared = varint(pos, end, what);
            long valueLen = varint(pos, end, what);
            if (restart && shared != 0) throw fail(what + ": the entry at restart point " + nextRestart + " shares " + shared + " key bytes (must be 0)");
            if (restart) nextRestart++;
            if (shared > key.length || nonShared > end - pos[0] || valueLen > end - pos[0] - nonShared) {
                throw fail(what + ": the entry at offset " + at + " (shared " + shared + ", new " + nonShared + ", value "
                        + valueLen + " bytes) runs past its block or its previous key");
            }
            byte[] k = Arrays.copyOf(key, (int) (shared + nonShared));
            System.arraycopy(b, pos[0], k, (int) shared, (int) nonShared);
            pos[0] += (int) nonShared;
            byte[] v = Arrays.copyOfRange(b, pos[0], pos[0] + (int) valueLen);
            pos[0] += (int) valueLen;
            key = k;
            out.add(new Entry(utf8(k, what, at), v));
        }
        if (nextRestart != restartAt.length) throw fail(what + " at offset " + off + ": restart point " + nextRestart + " does not start an entry");
        return out;
    }

    private String utf8(byte[] k, String what, int at) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(k)).toString();
        } catch (CharacterCodingException e) {
            throw fail(what + ": the key at offset " + at + " is not valid UTF-8");
        }
    }

    private long[] handle(int[] pos, int limit, String what) {
        return new long[] {varint(pos, limit, what), varint(pos, limit, what)};
    }

    private long[] handleIn(byte[] value, int[] pos, String what) {
        return new LevelDbTable(source, value).handle(pos, value.length, what);
    }

    /** A varint64 at {@code pos[0]} that must end before {@code limit}; advances pos. */
    private long varint(int[] pos, int limit, String what) {
        long v = 0;
        int at = pos[0];
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos[0] >= limit) throw fail("truncated varint in the " + what + " at offset " + at);
            int x = b[pos[0]++];
            v |= (long) (x & 0x7f) << shift;
            if (x >= 0) {
                if (v < 0) throw fail("varint in the " + what + " at offset " + at + " is out of range");
                return v;
            }
        }
        throw fail("malformed varint (over 10 bytes) in the " + what + " at offset " + at);
    }

    private long fixed32(int at) {
        return (b[at] & 0xffL) | (b[at + 1] & 0xffL) << 8 | (b[at + 2] & 0xffL) << 16 | (b[at + 3] & 0xffL) << 24;
    }

    private long fixed64(int at) {
        return fixed32(at) | fixed32(at + 4) << 32;
    }
}
