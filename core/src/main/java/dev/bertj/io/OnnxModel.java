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
        return new OnnxProtoReader(source, bytes).model();
    }

    /** A named value that is fixed in the file: an initializer or a Constant node's output; null otherwise. */
    public OnnxTensor constantOrInitializer(String name) {
        OnnxTensor t = initializers.get(name);
        return t != null ? t : constants.get(name);
    }

    /** Since opset 12 Constant may carry its value as value_float(s)/value_int(s) instead of a tensor. */
    static OnnxTensor constantValue(Node n) {
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

}
