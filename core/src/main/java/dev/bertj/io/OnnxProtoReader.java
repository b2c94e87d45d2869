package dev.bertj.io;

import dev.bertj.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.bertj.io.OnnxModel.*;

import dev.bertj.io.OnnxModel.Attribute;
import dev.bertj.io.OnnxModel.Node;
import dev.bertj.io.OnnxModel.OnnxException;
import dev.bertj.io.OnnxModel.OnnxTensor;

/**
 * Protobuf wire-format decoding over one byte array. Each message method loops over the fields
 * in [pos, end) and skips unknown ones; nested messages narrow {@code end}, so a length that
 * runs past its parent is caught where it occurs rather than as garbage later.
 */
final class OnnxProtoReader {
    private static final int VARINT = 0, I64 = 1, LEN = 2, I32 = 5;
    private final Path source;
    private final byte[] b;
    private int pos, end;
    private int field, wire;

    OnnxProtoReader(Path source, byte[] b) {
        this.source = source;
        this.b = b;
        this.end = b.length;
    }

    private OnnxException fail(String msg, int at) {
        return new OnnxException(source + ": " + msg + " at byte offset " + at + " (file is " + b.length + " bytes)");
    }

    private boolean next(String where) throws OnnxException {
        if (pos >= end) return false;
        int at = pos;
        long key = varint(where);
        field = (int) (key >>> 3);
        wire = (int) (key & 7);
        if (field <= 0 || key >>> 3 > 0x1fffffff) throw fail("invalid field number " + (key >>> 3) + " in " + where, at);
        return true;
    }

    private long varint(String where) throws OnnxException {
        int at = pos;
        long v = 0;
        for (int shift = 0; shift < 70; shift += 7) {
            if (pos >= end) throw fail("truncated varint in " + where, at);
            int x = b[pos++];
            v |= (long) (x & 0x7f) << shift;
            if (x >= 0) return v;
        }
        throw fail("malformed varint (over 10 bytes) in " + where, at);
    }

    private int fixed32(String where) throws OnnxException {
        if (end - pos < 4) throw fail("truncated fixed32 in " + where, pos);
        int v = (b[pos] & 0xff) | (b[pos + 1] & 0xff) << 8 | (b[pos + 2] & 0xff) << 16 | (b[pos + 3] & 0xff) << 24;
        pos += 4;
        return v;
    }

    private long fixed64(String where) throws OnnxException {
        long lo = fixed32(where) & 0xffffffffL;
        return lo | (long) fixed32(where) << 32;
    }

    /** Reads a length prefix and returns the payload's end; pos is left at its start. */
    private int len(String where) throws OnnxException {
        int at = pos;
        long n = varint(where);
        if (n < 0 || n > end - pos) {
            throw fail("length-delimited field " + field + " (" + where + ") claims " + n + " bytes but only "
                    + (end - pos) + " remain: truncated or corrupt file", at);
        }
        return pos + (int) n;
    }

    private String string(String where) throws OnnxException {
        want(LEN, where);
        int stop = len(where);
        String s = new String(b, pos, stop - pos, StandardCharsets.UTF_8);
        pos = stop;
        return s;
    }

    private void want(int expected, String where) throws OnnxException {
        if (wire != expected) {
            throw fail("field " + field + " of " + where + " has wire type " + wire + ", expected " + expected, pos);
        }
    }

    private void skip(String where) throws OnnxException {
        switch (wire) {
            case VARINT -> varint(where);
            case I64 -> fixed64(where);
            case I32 -> fixed32(where);
            case LEN -> pos = len(where);
            default -> throw fail("unsupported wire type " + wire + " for field " + field + " of " + where + " (corrupt, or not ONNX)", pos);
        }
    }

    /** Runs {@code body} over a length-delimited sub-message, then restores the outer bound. */
    private <T> T message(String where, Body<T> body) throws OnnxException {
        want(LEN, where);
        int stop = len(where);
        int outer = end;
        end = stop;
        T result = body.read(where);
        pos = stop;
        end = outer;
        return result;
    }

    private interface Body<T> {
        T read(String where) throws OnnxException;
    }

    /** Repeated varints arrive packed (one LEN field) or one per field; both are legal. */
    private void varints(OnnxLongBuf out, String where) throws OnnxException {
        if (wire == LEN) {
            int stop = len(where);
            while (pos < stop) out.add(varint(where));
            if (pos != stop) throw fail("packed varints overrun their length in " + where, stop);
        } else {
            want(VARINT, where);
            out.add(varint(where));
        }
    }

    private void fixed(OnnxLongBuf out, boolean wide, String where) throws OnnxException {
        if (wire == LEN) {
            int stop = len(where), size = wide ? 8 : 4;
            if ((stop - pos) % size != 0) throw fail("packed fixed" + 8 * size + " length " + (stop - pos) + " in " + where, pos);
            out.reserve((stop - pos) / size);
            while (pos < stop) out.add(wide ? fixed64(where) : fixed32(where));
        } else {
            want(wide ? I64 : I32, where);
            out.add(wide ? fixed64(where) : fixed32(where));
        }
    }

    OnnxModel model() throws OnnxException {
        String where = "ModelProto";
        long ir = 0;
        String producer = "", version = "";
        boolean sawGraph = false;
        Map<String, Long> opsets = new LinkedHashMap<>();
        while (next(where)) {
            switch (field) {
                case 1 -> { want(VARINT, where); ir = varint(where); }
                case 2 -> producer = string(where);
                case 3 -> version = string(where);
                case 7 -> sawGraph = message("ModelProto.graph", this::graph);
                case 8 -> message("ModelProto.opset_import", w -> {
                    String domain = "";
                    long v = 0;
                    while (next(w)) {
                        if (field == 1) domain = string(w);
                        else if (field == 2) { want(VARINT, w); v = varint(w); }
                        else skip(w);
                    }
                    return opsets.put(domain, v);
                });
                default -> skip(where);
            }
        }
        if (!sawGraph) throw fail("no graph (ModelProto field 7); is this an ONNX model?", pos);
        Map<String, OnnxTensor> constants = new LinkedHashMap<>();
        for (Node n : nodes) {
            OnnxTensor t = n.opType().equals("Constant") && !n.outputs().isEmpty() ? constantValue(n) : null;
            if (t != null) constants.put(n.outputs().getFirst(), t);
        }
        return new OnnxModel(source, ir, (producer + " " + version).trim(), opsets, nodes, inits, constants, inputs, outputs);
    }

    private final List<Node> nodes = new ArrayList<>();
    private final Map<String, OnnxTensor> inits = new LinkedHashMap<>();
    private final List<String> inputs = new ArrayList<>(), outputs = new ArrayList<>();

    private boolean graph(String where) throws OnnxException {
        while (next(where)) {
            switch (field) {
                case 1 -> nodes.add(message("graph.node[" + nodes.size() + "]", this::node));
                case 5 -> {
                    int at = pos;
                    OnnxTensor t = message("graph.initializer[" + inits.size() + "]", this::tensor);
                    if (inits.putIfAbsent(t.name(), t) != null) throw fail("duplicate initializer '" + t.name() + "'", at);
                }
                case 11, 12 -> {
                    List<String> names = field == 11 ? inputs : outputs;
                    names.add(message("graph." + (field == 11 ? "input" : "output"), w -> {
                        String name = "";
                        while (next(w)) { if (field == 1) name = string(w); else skip(w); }
                        return name;
                    }));
                }
                case 15 -> throw fail("sparse initializers are not supported", pos);
                default -> skip(where);
            }
        }
        return true;
    }

    private Node node(String where) throws OnnxException {
        List<String> in = new ArrayList<>(), out = new ArrayList<>();
        String name = "", op = "", domain = "";
        Map<String, Attribute> attrs = new LinkedHashMap<>();
        while (next(where)) {
            switch (field) {
                case 1 -> in.add(string(where));
                case 2 -> out.add(string(where));
                case 3 -> name = string(where);
                case 4 -> op = string(where);
                case 7 -> domain = string(where);
                case 5 -> { Attribute a = message(where + ".attribute", this::attribute); attrs.put(a.name(), a); }
                default -> skip(where);
            }
        }
        return new Node(name, op, domain, List.copyOf(in), List.copyOf(out), Collections.unmodifiableMap(attrs));
    }

    private Attribute attribute(String where) throws OnnxException {
        String name = "", s = null;
        int type = 0;
        float f = 0;
        long i = 0;
        OnnxTensor t = null;
        OnnxLongBuf floats = new OnnxLongBuf(), ints = new OnnxLongBuf();
        List<String> strings = new ArrayList<>();
        while (next(where)) {
            switch (field) {
                case 1 -> name = string(where);
                case 2 -> { want(I32, where); f = Float.intBitsToFloat(fixed32(where)); }
                case 3 -> { want(VARINT, where); i = varint(where); }
                case 4 -> s = string(where);
                case 5 -> t = message(where + ".t", this::tensor);
                case 7 -> fixed(floats, false, where);
                case 8 -> varints(ints, where);
                case 9 -> strings.add(string(where));
                case 20 -> { want(VARINT, where); type = (int) varint(where); }
                default -> skip(where);
            }
        }
        float[] fs = new float[floats.size];
        for (int k = 0; k < fs.length; k++) fs[k] = Float.intBitsToFloat((int) floats.v[k]);
        return new Attribute(name, type, f, i, s, t, fs, ints.toArray(), List.copyOf(strings));
    }

    /** Validates dims against the data present: a mismatch means a corrupt file, not a quirk to guess around. */
    private OnnxTensor tensor(String where) throws OnnxException {
        int start = pos;
        OnnxLongBuf dims = new OnnxLongBuf(), floats = new OnnxLongBuf(), int32s = new OnnxLongBuf(), int64s = new OnnxLongBuf(),
                doubles = new OnnxLongBuf(), uint64s = new OnnxLongBuf();
        int type = 0, rawOff = -1, rawLen = 0;
        String name = "", location = null;
        boolean external = false;
        while (next(where)) {
            switch (field) {
                case 1 -> varints(dims, where);
                case 2 -> { want(VARINT, where); type = (int) varint(where); }
                case 3 -> throw fail("segmented tensors are not supported in " + where, pos);
                case 4 -> fixed(floats, false, where);
                case 5 -> varints(int32s, where);
                case 7 -> varints(int64s, where);
                case 8 -> name = string(where);
                case 9 -> { want(LEN, where); int stop = len(where); rawOff = pos; rawLen = stop - pos; pos = stop; }
                case 10 -> fixed(doubles, true, where);
                case 11 -> varints(uint64s, where);
                case 13 -> {
                    external = true;
                    String loc = message(where + ".external_data", w -> {
                        String k = "", v = "";
                        while (next(w)) { if (field == 1) k = string(w); else if (field == 2) v = string(w); else skip(w); }
                        return k.equals("location") ? v : null;
                    });
                    if (loc != null) location = loc;
                }
                case 14 -> { want(VARINT, where); external |= varint(where) == 1; }
                default -> skip(where);
            }
        }
        String what = "tensor '" + name + "' (" + where + ")";
        if (external) {
            throw fail(what + " keeps its data in an external file" + (location == null ? "" : " '" + location + "'")
                    + "; bertj reads only self-contained .onnx files", start);
        }
        long numel = 1;
        for (int k = 0; k < dims.size; k++) {
            if (dims.v[k] < 0) throw fail(what + " has negative dim " + dims.v[k], start);
            // Even with a zero dim elsewhere (no elements), bertj's shapes are ints.
            if (dims.v[k] > Integer.MAX_VALUE) throw fail(what + " has dim " + dims.v[k] + ", beyond 2^31 - 1", start);
            // Capping as we go keeps the product from overflowing; any such tensor is refused below.
            long d = dims.v[k];
            numel = d != 0 && numel > Integer.MAX_VALUE / d ? Integer.MAX_VALUE : numel * d;
        }
        if (numel > Integer.MAX_VALUE - 8) throw fail(what + " has dims " + Arrays.toString(dims.toArray()) + ", too many elements for one array", start);
        long[] dimArr = dims.toArray();
        int es = elementSize(type);
        if (rawOff >= 0) {
            if (es < 0) throw fail(what + " has raw data of unsupported type " + typeName(type), start);
            if (rawLen != numel * es) {
                throw fail(what + " has dims " + Arrays.toString(dimArr) + " (" + numel + " x " + es + " bytes) but raw_data holds "
                        + rawLen + " bytes", start);
            }
            return new OnnxTensor(name, dimArr, type, numel, b, rawOff);
        }
        OnnxLongBuf src = switch (type) {
            case FLOAT -> floats;
            case DOUBLE -> doubles;
            case INT64 -> int64s;
            case UINT32, UINT64 -> uint64s;
            case INT32, INT16, UINT16, INT8, UINT8, BOOL, FLOAT16, BFLOAT16 -> int32s; // 16-bit floats travel as bit patterns
            default -> null; // STRING and unknown types: kept as metadata only
        };
        if (src == null) return new OnnxTensor(name, dimArr, type, numel, new byte[0], 0);
        if (src.size != numel) {
            throw fail(what + " has dims " + Arrays.toString(dimArr) + " (" + numel + " values) but its "
                    + typeName(type) + " data holds " + src.size, start);
        }
        // Re-encoded as little-endian bytes so that one decoder serves raw and typed data alike.
        return OnnxTensor.of(name, dimArr, type, src.toArray());
    }
}

/** A growable long array; floats and doubles ride along as their bit patterns. */
final class OnnxLongBuf {
    long[] v = new long[4];
    int size;

    void reserve(int more) {
        if (size + more > v.length) v = Arrays.copyOf(v, size + more);
    }

    void add(long x) {
        if (size == v.length) v = Arrays.copyOf(v, size * 2);
        v[size++] = x;
    }

    long[] toArray() {
        return Arrays.copyOf(v, size);
    }
}
