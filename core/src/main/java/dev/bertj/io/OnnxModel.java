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

/**
 * A read-only view of an ONNX model file: the graph's nodes, initializers, inputs and outputs.
 *
 * <p>It decodes the protobuf wire format itself (ModelProto, GraphProto, NodeProto,
 * AttributeProto, TensorProto), so bertj needs no protobuf library. Only what a weight converter
 * needs is kept; unknown fields are skipped, as protobuf readers must. Tensor data stays in the
 * file's bytes until {@link OnnxTensor#floats()} or {@link OnnxTensor#longs()} asks for it.
 * Sub-graphs (If, Loop) are not decoded; external, segmented and sparse tensor data is refused.
 *
 * @param source the file read, named in error messages
 * @param irVersion ModelProto.ir_version
 * @param producer producer name and version, e.g. {@code "pytorch 2.0.1"}
 * @param opsets operator-set version by domain ({@code ""} is the default ONNX domain)
 * @param nodes the graph's nodes in file order (topological in a valid model)
 * @param initializers the graph's initializers by name, in file order
 * @param constants each Constant node's value, keyed by the node's output name
 * @param inputs graph input names (older files list initializers here too)
 * @param outputs graph output names
 */
public record OnnxModel(Path source, long irVersion, String producer, Map<String, Long> opsets, List<Node> nodes,
                        Map<String, OnnxTensor> initializers, Map<String, OnnxTensor> constants,
                        List<String> inputs, List<String> outputs) {

    /** TensorProto.DataType values. */
    public static final int FLOAT = 1, UINT8 = 2, INT8 = 3, UINT16 = 4, INT16 = 5, INT32 = 6, INT64 = 7,
            STRING = 8, BOOL = 9, FLOAT16 = 10, DOUBLE = 11, UINT32 = 12, UINT64 = 13, BFLOAT16 = 16;

    /** Makes every collection unmodifiable; the maps keep their order. */
    public OnnxModel {
        opsets = Collections.unmodifiableMap(new LinkedHashMap<>(opsets));
        nodes = List.copyOf(nodes);
        initializers = Collections.unmodifiableMap(new LinkedHashMap<>(initializers));
        constants = Collections.unmodifiableMap(new LinkedHashMap<>(constants));
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
    }

    /** A file that is not a well-formed ONNX model, or uses a feature this reader refuses. */
    public static final class OnnxException extends IOException {
        private static final long serialVersionUID = 1L;

        /** Creates an exception with a complete message. */
        public OnnxException(String message) {
            super(message);
        }
    }

    /**
     * A NodeProto attribute; only the field matching {@link #type()} is meaningful
     * (AttributeProto.AttributeType: 1 FLOAT, 2 INT, 3 STRING, 4 TENSOR, 6 FLOATS, 7 INTS, 8 STRINGS).
     */
    public record Attribute(String name, int type, float f, long i, String s, OnnxTensor t,
                            float[] floats, long[] ints, List<String> strings) { }

    /** One graph node; {@code inputs} may hold empty strings for omitted optional inputs. */
    public record Node(String name, String opType, String domain, List<String> inputs, List<String> outputs,
                       Map<String, Attribute> attributes) {
        /** The INT attribute {@code key}, or {@code fallback} when absent. */
        public long attrInt(String key, long fallback) {
            Attribute a = attributes.get(key);
            return a == null ? fallback : a.i();
        }

        /** The FLOAT attribute {@code key}, or {@code fallback} when absent. */
        public float attrFloat(String key, float fallback) {
            Attribute a = attributes.get(key);
            return a == null ? fallback : a.f();
        }
    }

    /**
     * A TensorProto: name, dims and element type, with its data decoded on demand from
     * little-endian bytes (raw_data as stored, or typed fields re-encoded the same way).
     */
    public static final class OnnxTensor {
        private final String name;
        private final long[] dims;
        private final int dataType;
        private final long numel;
        private final byte[] buf; // the data is buf[off, off + numel * elementSize)
        private final int off;

        OnnxTensor(String name, long[] dims, int dataType, long numel, byte[] buf, int off) {
            this.name = name;
            this.dims = dims;
            this.dataType = dataType;
            this.numel = numel;
            this.buf = buf;
            this.off = off;
        }

        /** A tensor built from values given as bit patterns (float bits for FLOAT, the value for ints). */
        static OnnxTensor of(String name, long[] dims, int dataType, long[] bits) {
            int es = Math.max(elementSize(dataType), 0);
            byte[] b = new byte[bits.length * es];
            for (int k = 0; k < bits.length; k++) for (int j = 0; j < es; j++) b[k * es + j] = (byte) (bits[k] >>> (8 * j));
            return new OnnxTensor(name, dims, dataType, bits.length, b, 0);
        }

        /** The tensor's name (empty for an anonymous attribute tensor). */
        public String name() {
            return name;
        }

        /** The dims (a copy); empty for a scalar. */
        public long[] dims() {
            return dims.clone();
        }

        /** The dims as ints, as bertj's {@link Tensor} wants them. */
        public int[] shape() {
            int[] s = new int[dims.length];
            for (int k = 0; k < s.length; k++) s[k] = Math.toIntExact(dims[k]);
            return s;
        }

        /** TensorProto.DataType, e.g. {@link #FLOAT} or {@link #INT64}. */
        public int dataType() {
            return dataType;
        }

        /** Number of elements: the product of the dims. */
        public long numel() {
            return numel;
        }

        private ByteBuffer data() {
            if (elementSize(dataType) < 0) throw wrongType("a numeric type");
            return ByteBuffer.wrap(buf, off, (int) numel * elementSize(dataType)).slice().order(ByteOrder.LITTLE_ENDIAN);
        }

        /**
         * The values as floats (a fresh array), for FLOAT, FLOAT16, BFLOAT16 and DOUBLE tensors.
         *
         * @throws IllegalStateException for any other data type
         */
        public float[] floats() {
            int n = (int) numel;
            float[] out = new float[n];
            ByteBuffer bb = data();
            switch (dataType) {
                case FLOAT -> bb.asFloatBuffer().get(out);
                case DOUBLE -> { for (int k = 0; k < n; k++) out[k] = (float) bb.getDouble(8 * k); }
                case FLOAT16 -> { for (int k = 0; k < n; k++) out[k] = Float.float16ToFloat(bb.getShort(2 * k)); }
                case BFLOAT16 -> { for (int k = 0; k < n; k++) out[k] = Float.intBitsToFloat((bb.getShort(2 * k) & 0xffff) << 16); }
                default -> throw wrongType("floating-point");
            }
            return out;
        }

        /**
         * The values as longs (a fresh array), for the integer and BOOL tensors.
         *
         * @throws IllegalStateException for any other data type
         */
        public long[] longs() {
            int n = (int) numel;
            long[] out = new long[n];
            ByteBuffer bb = data();
            for (int k = 0; k < n; k++) {
                out[k] = switch (dataType) {
                    case INT64, UINT64 -> bb.getLong(8 * k);
                    case INT32 -> bb.getInt(4 * k);
                    case UINT32 -> bb.getInt(4 * k) & 0xffffffffL;
                    case INT16 -> bb.getShort(2 * k);
                    case UINT16 -> bb.getShort(2 * k) & 0xffff;
                    case INT8 -> bb.get(k);
                    case UINT8, BOOL -> bb.get(k) & 0xff;
                    default -> throw wrongType("integer");
                };
            }
            return out;
        }

        /** The values as a bertj {@link Tensor} of this shape (floating-point tensors only). */
        public Tensor toTensor() {
            return new Tensor(floats(), shape());
        }

        private IllegalStateException wrongType(String wanted) {
            return new IllegalStateException("ONNX tensor '" + name + "' has data type " + typeName(dataType) + ", not " + wanted);
        }

        @Override
        public String toString() {
            return "OnnxTensor[" + name + " " + typeName(dataType) + Arrays.toString(dims) + "]";
        }
    }

    /**
     * Reads and decodes {@code file}.
     *
     * @throws OnnxException if the file is not a well-formed ONNX model (the message names the file,
     *     what is malformed, and the byte offset), or keeps tensor data in external files
     */
    public static OnnxModel read(Path file) throws IOException {
        long size = Files.size(file);
        // Protobuf messages cannot exceed 2 GiB, which is why big models use external data.
        if (size > Integer.MAX_VALUE - 8) throw new OnnxException(file + ": " + size + " bytes is over the 2 GiB protobuf limit");
        return read(Files.readAllBytes(file), file);
    }

    /** Decodes an ONNX model held in memory (kept, not copied); {@code source} names it in error messages. */
    public static OnnxModel read(byte[] bytes, Path source) throws OnnxException {
        if (bytes.length == 0) throw new OnnxException(source + ": empty file, not an ONNX model");
        return new ProtoReader(source, bytes).model();
    }

    /** A named value that is fixed in the file: an initializer or a Constant node's output; null otherwise. */
    public OnnxTensor constantOrInitializer(String name) {
        OnnxTensor t = initializers.get(name);
        return t != null ? t : constants.get(name);
    }

    /** Since opset 12 Constant may carry its value as value_float(s)/value_int(s) instead of a tensor. */
    private static OnnxTensor constantValue(Node n) {
        String out = n.outputs().getFirst();
        for (Attribute a : n.attributes().values()) {
            switch (a.name()) {
                case "value" -> { return a.t(); }
                case "value_float" -> { return OnnxTensor.of(out, new long[0], FLOAT, new long[] {Float.floatToRawIntBits(a.f())}); }
                case "value_int" -> { return OnnxTensor.of(out, new long[0], INT64, new long[] {a.i()}); }
                case "value_ints" -> { return OnnxTensor.of(out, new long[] {a.ints().length}, INT64, a.ints()); }
                case "value_floats" -> {
                    long[] bits = new long[a.floats().length];
                    for (int k = 0; k < bits.length; k++) bits[k] = Float.floatToRawIntBits(a.floats()[k]);
                    return OnnxTensor.of(out, new long[] {bits.length}, FLOAT, bits);
                }
                default -> { }
            }
        }
        return null;
    }

    /** A readable name for a TensorProto.DataType. */
    public static String typeName(int dataType) {
        return switch (dataType) {
            case FLOAT -> "FLOAT"; case UINT8 -> "UINT8"; case INT8 -> "INT8"; case UINT16 -> "UINT16";
            case INT16 -> "INT16"; case INT32 -> "INT32"; case INT64 -> "INT64"; case STRING -> "STRING";
            case BOOL -> "BOOL"; case FLOAT16 -> "FLOAT16"; case DOUBLE -> "DOUBLE"; case UINT32 -> "UINT32";
            case UINT64 -> "UINT64"; case BFLOAT16 -> "BFLOAT16";
            default -> "type#" + dataType;
        };
    }

    /** Bytes per element, or -1 for types whose data this reader does not decode (STRING, unknown). */
    static int elementSize(int dataType) {
        return switch (dataType) {
            case FLOAT, INT32, UINT32 -> 4;
            case INT64, UINT64, DOUBLE -> 8;
            case INT16, UINT16, FLOAT16, BFLOAT16 -> 2;
            case INT8, UINT8, BOOL -> 1;
            default -> -1;
        };
    }

    /**
     * Protobuf wire-format decoding over one byte array. Each message method loops over the fields
     * in [pos, end) and skips unknown ones; nested messages narrow {@code end}, so a length that
     * runs past its parent is caught where it occurs rather than as garbage later.
     */
    private static final class ProtoReader {
        private static final int VARINT = 0, I64 = 1, LEN = 2, I32 = 5;
        private final Path source;
        private final byte[] b;
        private int pos, end;
        private int field, wire;

        private ProtoReader(Path source, byte[] b) {
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
        private void varints(LongBuf out, String where) throws OnnxException {
            if (wire == LEN) {
                int stop = len(where);
                while (pos < stop) out.add(varint(where));
                if (pos != stop) throw fail("packed varints overrun their length in " + where, stop);
            } else {
                want(VARINT, where);
                out.add(varint(where));
            }
        }

        private void fixed(LongBuf out, boolean wide, String where) throws OnnxException {
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

        private OnnxModel model() throws OnnxException {
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
            LongBuf floats = new LongBuf(), ints = new LongBuf();
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
            LongBuf dims = new LongBuf(), floats = new LongBuf(), int32s = new LongBuf(), int64s = new LongBuf(),
                    doubles = new LongBuf(), uint64s = new LongBuf();
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
            LongBuf src = switch (type) {
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
    private static final class LongBuf {
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
}
