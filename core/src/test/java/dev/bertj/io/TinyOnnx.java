package dev.bertj.io;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a tiny ONNX export of a one-layer BERT encoder in the shapes PyTorch's exporter gives
 * (anonymous {@code onnx::MatMul_N} weights in [in, out] layout, biases added after the MatMul, a
 * decomposed LayerNorm whose epsilon is an Add after ReduceMean(Pow), the head count only visible in
 * Reshape targets, Erf for exact GELU). Tests break one piece at a time; the fuzz corpus starts from
 * its bytes. The protobuf is written by hand, field numbers from onnx.proto.
 */
public final class TinyOnnx {
    public static final int H = 4, HEADS = 2, I = 8, V = 10, P = 8, T = 2;

    /** A NodeProto: inputs, outputs, name, op_type, and FLOAT attributes. */
    public record Node(List<String> inputs, List<String> outputs, String name, String op, Map<String, Float> floatAttrs) {
        public Node(List<String> inputs, List<String> outputs, String name, String op) {
            this(inputs, outputs, name, op, Map.of());
        }
    }

    /** A TensorProto: FLOAT values as raw_data, or INT64 values. */
    public record Init(String name, long[] dims, float[] floats, long[] longs) { }

    public final List<Node> nodes = new ArrayList<>();
    public final Map<String, Init> inits = new LinkedHashMap<>();

    /** Deterministic, distinct values, so a transposed or misplaced weight shows. */
    public static float[] values(int n, int salt) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (salt * 1000 + i) * 0.001f;
        return v;
    }

    public void floats(String name, float[] data, long... dims) {
        inits.put(name, new Init(name, dims, data, null));
    }

    public void longs(String name, long[] data, long... dims) {
        inits.put(name, new Init(name, dims, null, data));
    }

    /** The one-layer BERT, as described above. */
    public static TinyOnnx bert() {
        TinyOnnx m = new TinyOnnx();
        int salt = 1;
        m.floats("embeddings.word_embeddings.weight", values(V * H, salt++), V, H);
        m.floats("embeddings.position_embeddings.weight", values(P * H, salt++), P, H);
        m.floats("embeddings.token_type_embeddings.weight", values(T * H, salt++), T, H);
        m.floats("embeddings.LayerNorm.weight", values(H, salt++), H);
        m.floats("embeddings.LayerNorm.bias", values(H, salt++), H);
        // The embedding LayerNorm, decomposed: Pow -> ReduceMean -> Add(eps).
        m.nodes.add(new Node(List.of("emb", "two"), List.of("sq"), "/embeddings/LayerNorm/Pow", "Pow"));
        m.nodes.add(new Node(List.of("sq"), List.of("var"), "/embeddings/LayerNorm/ReduceMean_1", "ReduceMean"));
        m.floats("eps", new float[] {1e-12f});
        m.floats("two", new float[] {2f});
        m.nodes.add(new Node(List.of("var", "eps"), List.of("var_eps"), "/embeddings/LayerNorm/Add", "Add"));
        String p = "encoder.layer.0.";
        String[][] linears = {{"attention/self/query", "attention.self.query", "4", "4"}, {"attention/self/key", "attention.self.key", "4", "4"},
            {"attention/self/value", "attention.self.value", "4", "4"}, {"attention/output/dense", "attention.output.dense", "4", "4"},
            {"intermediate/dense", "intermediate.dense", "4", "8"}, {"output/dense", "output.dense", "8", "4"}};
        int anon = 700;
        for (String[] l : linears) {
            int in = Integer.parseInt(l[2]), out = Integer.parseInt(l[3]);
            String w = "onnx::MatMul_" + anon++;
            m.floats(w, values(in * out, salt++), in, out);
            String mm = "/encoder/layer.0/" + l[0] + "/MatMul";
            m.nodes.add(new Node(List.of("x", w), List.of(mm + "_output_0"), mm, "MatMul"));
            // The bias: the Add after the MatMul, whose other input is the initializer with the HF name.
            m.floats(p + l[1] + ".bias", values(out, salt++), out);
            m.nodes.add(new Node(List.of(p + l[1] + ".bias", mm + "_output_0"), List.of(mm + "_add"), mm.replace("MatMul", "Add"), "Add"));
        }
        for (String ln : List.of("attention.output.LayerNorm", "output.LayerNorm")) {
            m.floats(p + ln + ".weight", values(H, salt++), H);
            m.floats(p + ln + ".bias", values(H, salt++), H);
        }
        m.nodes.add(new Node(List.of("h", p + "output.LayerNorm.weight", p + "output.LayerNorm.bias"), List.of("ln_out"),
                "/encoder/layer.0/output/LayerNorm/LayerNormalization", "LayerNormalization", Map.of("epsilon", 1e-12f)));
        // Heads: one Reshape with a constant target, one with a Concat of dynamic dims and constants.
        m.longs("shape4", new long[] {0, 0, HEADS, H / HEADS}, 4);
        m.nodes.add(new Node(List.of("q", "shape4"), List.of("q4"), "/encoder/layer.0/attention/self/Reshape", "Reshape"));
        m.longs("heads", new long[] {HEADS}, 1);
        m.longs("head_dim", new long[] {H / HEADS}, 1);
        m.nodes.add(new Node(List.of("b_dim", "s_dim", "heads", "head_dim"), List.of("cat"), "/encoder/layer.0/attention/self/Concat", "Concat"));
        m.nodes.add(new Node(List.of("k", "cat"), List.of("k4"), "/encoder/layer.0/attention/self/Reshape_1", "Reshape"));
        m.nodes.add(new Node(List.of("inter"), List.of("erf"), "/encoder/layer.0/intermediate/intermediate_act_fn/Erf", "Erf"));
        return m;
    }

    /** The ModelProto bytes. */
    public byte[] bytes() {
        Proto graph = new Proto();
        for (Node n : nodes) {
            Proto np = new Proto();
            for (String in : n.inputs()) np.string(1, in);
            for (String out : n.outputs()) np.string(2, out);
            np.string(3, n.name()).string(4, n.op());
            for (Map.Entry<String, Float> a : n.floatAttrs().entrySet()) {
                np.message(5, new Proto().string(1, a.getKey()).fixed32(2, Float.floatToRawIntBits(a.getValue())).varint(20, 1));
            }
            graph.message(1, np);
        }
        for (Init t : inits.values()) {
            Proto tp = new Proto();
            for (long d : t.dims()) tp.varint(1, d);
            if (t.floats() != null) {
                ByteBuffer raw = ByteBuffer.allocate(4 * t.floats().length).order(ByteOrder.LITTLE_ENDIAN);
                for (float f : t.floats()) raw.putFloat(f);
                tp.varint(2, OnnxModel.FLOAT).string(8, t.name()).bytes(9, raw.array());
            } else {
                tp.varint(2, OnnxModel.INT64);
                for (long v : t.longs()) tp.varint(7, v);
                tp.string(8, t.name());
            }
            graph.message(5, tp);
        }
        for (String in : List.of("input_ids", "attention_mask", "token_type_ids")) graph.message(11, new Proto().string(1, in));
        graph.message(12, new Proto().string(1, "last_hidden_state"));
        return new Proto().varint(1, 8).string(2, "pytorch").string(3, "2.1.0").message(7, graph)
                .message(8, new Proto().string(1, "").varint(2, 17)).out.toByteArray();
    }

    /** A protobuf message being written. */
    static final class Proto {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();

        private void raw(long v) {
            while ((v & ~0x7fL) != 0) {
                out.write((int) ((v & 0x7f) | 0x80));
                v >>>= 7;
            }
            out.write((int) v);
        }

        Proto varint(int field, long v) {
            raw((long) field << 3);
            raw(v);
            return this;
        }

        Proto fixed32(int field, int v) {
            raw((long) field << 3 | 5);
            for (int k = 0; k < 4; k++) out.write(v >>> (8 * k));
            return this;
        }

        Proto bytes(int field, byte[] b) {
            raw((long) field << 3 | 2);
            raw(b.length);
            out.writeBytes(b);
            return this;
        }

        Proto string(int field, String s) {
            return bytes(field, s.getBytes(StandardCharsets.UTF_8));
        }

        Proto message(int field, Proto m) {
            return bytes(field, m.out.toByteArray());
        }
    }
}
