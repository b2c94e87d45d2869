package dev.bertj.io;

import dev.bertj.io.OnnxModel.Node;
import dev.bertj.io.OnnxModel.OnnxTensor;
import dev.bertj.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns an ONNX export of a Hugging Face {@code BertModel} encoder into HF's state-dict names and
 * shapes, plus the {@code config.json} values the graph implies.
 *
 * <p>PyTorch's exporter keeps module paths in node names ({@code /encoder/layer.0/attention/self/query/MatMul})
 * but gives constant-folded Linear weights anonymous names ({@code onnx::MatMul_787}) in {@code [in, out]}
 * layout. So Linear weights are named from the MatMul (or Gemm) node that consumes them and
 * transposed to HF's {@code [out, in]}; biases and LayerNorm parameters keep their HF initializer
 * names, or else are found as the Add after the MatMul and the inputs of LayerNormalization.
 * The head count, which no weight shows, comes from the attention Reshape target shapes.
 */
public final class OnnxBertConverter {

    private OnnxBertConverter() { }

    /** The converted model: weights in HF state-dict order, and config.json keys (ints as Long). */
    public record Converted(Map<String, Tensor> weights, Map<String, Object> config) { }

    /** Progress of a conversion: {@code done} of {@code total} weights, the latest one named. */
    @FunctionalInterface
    public interface Progress {
        /** Called after each weight is produced. */
        void update(int done, int total, String name);

        /** Reports nothing. */
        Progress NONE = (done, total, name) -> { };
    }

    /** An ONNX graph that is not a BERT encoder bertj can map; the message names what was missing. */
    public static final class ConversionException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        /** Creates an exception with a complete message. */
        public ConversionException(String message) {
            super(message);
        }
    }

    private static final String[] LAYER_PARAMS = {
        "attention.self.query.weight", "attention.self.query.bias", "attention.self.key.weight", "attention.self.key.bias",
        "attention.self.value.weight", "attention.self.value.bias", "attention.output.dense.weight", "attention.output.dense.bias",
        "attention.output.LayerNorm.weight", "attention.output.LayerNorm.bias", "intermediate.dense.weight", "intermediate.dense.bias",
        "output.dense.weight", "output.dense.bias", "output.LayerNorm.weight", "output.LayerNorm.bias"};
    private static final String[] EMBEDDING_PARAMS = {
        "embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight", "embeddings.token_type_embeddings.weight",
        "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias"};
    private static final Pattern LAYER = Pattern.compile("encoder\\.layer\\.(\\d+)\\.");

    /** Reads {@code onnxFile} and converts it. */
    public static Converted convert(Path onnxFile, Progress progress) throws IOException {
        return convert(OnnxModel.read(onnxFile), progress);
    }

    /** Converts {@code model} without reporting progress. */
    public static Converted convert(OnnxModel model) {
        return convert(model, Progress.NONE);
    }

    /**
     * Converts {@code model}.
     *
     * @throws ConversionException if a weight is missing or misshapen, or a config value cannot be inferred
     */
    public static Converted convert(OnnxModel model, Progress progress) {
        Graph g = new Graph(model);
        Map<String, Source> found = locate(g);
        String src = model.source().toString();

        int layers = countLayers(found.keySet(), src);
        List<String> names = new ArrayList<>(List.of(EMBEDDING_PARAMS));
        for (int i = 0; i < layers; i++) for (String p : LAYER_PARAMS) names.add("encoder.layer." + i + "." + p);
        // The pooler is not part of every export (last_hidden_state only), so it is taken when present.
        if (found.containsKey("pooler.dense.weight") && found.containsKey("pooler.dense.bias")) {
            names.addAll(List.of("pooler.dense.weight", "pooler.dense.bias"));
        }
        List<String> missing = new ArrayList<>();
        for (String n : names) if (!found.containsKey(n)) missing.add(n);
        if (!missing.isEmpty()) {
            String list = missing.size() <= 12 ? missing.toString()
                    : missing.subList(0, 12) + " and " + (missing.size() - 12) + " more";
            throw new ConversionException(src + ": no ONNX tensor found for " + list
                    + " (looked for initializers with these names, MatMul/Gemm nodes named /<module path>/MatMul,"
                    + " the Add after them, and LayerNormalization inputs)");
        }

        // Shapes are checked from the dims, before any data is decoded: the sizes come from four tensors' ranks.
        int[] word = rank2(found, "embeddings.word_embeddings.weight", "[vocab_size, hidden_size]", src);
        int hidden = word[1];
        int inter = rank2(found, "encoder.layer.0.intermediate.dense.weight", "[intermediate_size, hidden_size]", src)[0];
        int positions = rank2(found, "embeddings.position_embeddings.weight", "[max_position_embeddings, hidden_size]", src)[0];
        int types = rank2(found, "embeddings.token_type_embeddings.weight", "[type_vocab_size, hidden_size]", src)[0];
        Map<String, int[]> expected = expectedShapes(word[0], hidden, inter, layers, positions, types);
        for (String n : names) {
            int[] want = expected.get(n);
            int[] shape = found.get(n).shape();
            if (want != null && !Arrays.equals(want, shape)) {
                throw new ConversionException(src + ": " + n + " has shape " + Arrays.toString(shape)
                        + ", expected " + Arrays.toString(want) + " (ONNX tensor '" + found.get(n).tensor.name() + "')");
            }
        }

        Map<String, Tensor> weights = new LinkedHashMap<>();
        for (String n : names) {
            weights.put(n, found.get(n).load());
            progress.update(weights.size(), names.size(), n);
        }

        Map<String, Object> config = new TreeMap<>(); // HF writes config.json with sorted keys
        config.put("architectures", List.of("BertModel"));
        config.put("hidden_act", hiddenAct(g, src));
        config.put("hidden_size", (long) hidden);
        config.put("intermediate_size", (long) inter);
        config.put("layer_norm_eps", layerNormEps(g, src));
        config.put("max_position_embeddings", (long) positions);
        config.put("model_type", "bert");
        config.put("num_attention_heads", (long) heads(g, hidden, src));
        config.put("num_hidden_layers", (long) layers);
        config.put("position_embedding_type", "absolute");
        config.put("type_vocab_size", (long) types);
        config.put("vocab_size", (long) word[0]);
        return new Converted(weights, new LinkedHashMap<>(config));
    }

    /** The shape of a weight that must be a matrix, or a message naming it, its shape and the meaning of its dims. */
    private static int[] rank2(Map<String, Source> found, String name, String meaning, String src) {
        int[] s = found.get(name).shape();
        if (s.length != 2) {
            throw new ConversionException(src + ": " + name + " has shape " + Arrays.toString(s) + ", expected a matrix "
                    + meaning + " (ONNX tensor '" + found.get(name).tensor.name() + "')");
        }
        return s;
    }

    /** An ONNX tensor destined for one HF name; {@code transpose} turns [in, out] into [out, in]. */
    private record Source(OnnxTensor tensor, boolean transpose) {
        /** The HF shape: the ONNX dims, swapped when transposed (transposed tensors are matrices). */
        int[] shape() {
            int[] s = tensor.shape();
            return transpose ? new int[] {s[1], s[0]} : s;
        }

        Tensor load() {
            float[] a = tensor.floats();
            int[] s = tensor.shape();
            if (!transpose) return new Tensor(a, s);
            int rows = s[0], cols = s[1];
            float[] t = new float[a.length];
            for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
            return new Tensor(t, cols, rows);
        }
    }

    /** The graph with lookups by output name, and fixed values (initializers, Constant outputs). */
    private static final class Graph {
        final OnnxModel model;
        final Map<String, Node> producer = new HashMap<>();
        final Map<String, List<Node>> consumers = new HashMap<>();
        final Map<String, Optional<OnnxTensor>> addedBias = new HashMap<>();
        final Map<String, Optional<long[]>> shapeValues = new HashMap<>();

        Graph(OnnxModel model) {
            this.model = model;
            for (Node n : model.nodes()) {
                for (String o : n.outputs()) producer.put(o, n);
                for (String i : n.inputs()) consumers.computeIfAbsent(i, k -> new ArrayList<>()).add(n);
            }
        }

        OnnxTensor fixed(String name) {
            return model.constantOrInitializer(name);
        }

        OnnxTensor floatInit(String name, int rank) {
            OnnxTensor t = model.initializers().get(name);
            return t != null && isFloat(t) && t.dims().length == rank ? t : null;
        }

        /** Half-precision exports convert too: {@link OnnxTensor#floats()} widens them. */
        static boolean isFloat(OnnxTensor t) {
            int d = t.dataType();
            return d == OnnxModel.FLOAT || d == OnnxModel.FLOAT16 || d == OnnxModel.BFLOAT16 || d == OnnxModel.DOUBLE;
        }

        String op(String value) {
            Node n = producer.get(value);
            return n == null ? "" : n.opType();
        }
    }

    /** HF module path from a node name: "/bert/encoder/layer.0/attention/self/query/MatMul" gives "encoder.layer.0.attention.self.query". */
    private static String modulePath(Node n) {
        String name = n.name();
        int slash = name.lastIndexOf('/');
        if (slash <= 0) return null;
        return hfName(name.substring(name.startsWith("/") ? 1 : 0, slash).replace('/', '.'));
    }

    /** Drops the task-model prefix so BertFor* exports map like BertModel ones. */
    private static String hfName(String name) {
        return name.startsWith("bert.") ? name.substring(5) : name;
    }

    /** Finds every HF-named tensor the graph provides, without decoding any data yet. */
    private static Map<String, Source> locate(Graph g) {
        Map<String, Source> found = new HashMap<>();
        Set<String> linearWeights = new TreeSet<>();
        for (Node n : g.model.nodes()) {
            boolean gemm = n.opType().equals("Gemm");
            if (!(gemm || n.opType().equals("MatMul")) || n.inputs().size() < 2) continue;
            OnnxTensor w = g.floatInit(n.inputs().get(1), 2);
            if (w == null) continue; // activation x activation, e.g. Q.K^T
            String path = modulePath(n);
            if (path == null || path.isEmpty()) {
                if (!w.name().endsWith(".weight")) continue;
                path = hfName(w.name().substring(0, w.name().length() - ".weight".length()));
            }
            linearWeights.add(w.name());
            // Gemm with transB=1 already holds nn.Linear's [out, in]; MatMul always holds [in, out].
            found.put(path + ".weight", new Source(w, !(gemm && n.attrInt("transB", 0) == 1)));
            OnnxTensor bias = gemm && n.inputs().size() > 2 ? g.floatInit(n.inputs().get(2), 1) : addedBias(g, n);
            if (bias != null) found.put(path + ".bias", new Source(bias, false));
        }
        for (Node n : g.model.nodes()) {
            if (!n.opType().equals("LayerNormalization") || n.inputs().size() < 3) continue;
            String path = modulePath(n);
            OnnxTensor w = g.floatInit(n.inputs().get(1), 1), b = g.floatInit(n.inputs().get(2), 1);
            if (path != null && w != null && b != null) {
                found.put(path + ".weight", new Source(w, false));
                found.put(path + ".bias", new Source(b, false));
            }
        }
        // Initializers already carrying HF names win: they are what the exporter saw in the state dict.
        for (OnnxTensor t : g.model.initializers().values()) {
            if (Graph.isFloat(t) && !linearWeights.contains(t.name())
                    && (t.name().contains("embeddings.") || t.name().contains("encoder.layer.") || t.name().contains("pooler."))) {
                found.put(hfName(t.name()), new Source(t, false));
            }
        }
        return found;
    }

    /**
     * The rank-1 initializer added to a MatMul's output: the Linear's bias. Memoized per output, so a
     * graph of many MatMuls sharing one output and many Adds reading it costs their sum, not product.
     */
    private static OnnxTensor addedBias(Graph g, Node matmul) {
        if (matmul.outputs().isEmpty()) return null; // a node without outputs feeds nothing
        return g.addedBias.computeIfAbsent(matmul.outputs().getFirst(), out -> {
            for (Node c : g.consumers.getOrDefault(out, List.of())) {
                if (!c.opType().equals("Add")) continue;
                for (String in : c.inputs()) {
                    OnnxTensor b = g.floatInit(in, 1);
                    if (b != null) return Optional.of(b);
                }
            }
            return Optional.empty();
        }).orElse(null);
    }

    private static int countLayers(Set<String> names, String src) {
        TreeSet<Integer> idx = new TreeSet<>();
        for (String n : names) {
            Matcher m = LAYER.matcher(n);
            if (!m.lookingAt()) continue;
            // Indices are dense from 0, so one beyond the number of tensors is wrong however it parses.
            if (m.group(1).length() > 9 || Integer.parseInt(m.group(1)) >= names.size()) {
                throw new ConversionException(src + ": tensor '" + n + "' has encoder layer index " + m.group(1)
                        + ", but the graph holds only " + names.size() + " weights (layers are numbered densely from 0)");
            }
            idx.add(Integer.parseInt(m.group(1)));
        }
        if (idx.isEmpty()) throw new ConversionException(src + ": no encoder layers found (no tensor named encoder.layer.N.*)");
        int layers = idx.last() + 1;
        if (idx.size() != layers) {
            List<Integer> missing = new ArrayList<>();
            for (int i = 0; i < layers && missing.size() < 12; i++) if (!idx.contains(i)) missing.add(i);
            throw new ConversionException(src + ": encoder layer indices run to " + idx.last() + " but layers " + missing
                    + (layers - idx.size() > missing.size() ? " and more" : "") + " are missing");
        }
        return layers;
    }

    private static Map<String, int[]> expectedShapes(int vocab, int h, int inter, int layers, int positions, int types) {
        Map<String, int[]> m = new HashMap<>();
        m.put("embeddings.word_embeddings.weight", new int[] {vocab, h});
        m.put("embeddings.position_embeddings.weight", new int[] {positions, h});
        m.put("embeddings.token_type_embeddings.weight", new int[] {types, h});
        m.put("embeddings.LayerNorm.weight", new int[] {h});
        m.put("embeddings.LayerNorm.bias", new int[] {h});
        m.put("pooler.dense.weight", new int[] {h, h});
        m.put("pooler.dense.bias", new int[] {h});
        for (int i = 0; i < layers; i++) {
            String p = "encoder.layer." + i + ".";
            for (String s : List.of("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense")) {
                m.put(p + s + ".weight", new int[] {h, h});
                m.put(p + s + ".bias", new int[] {h});
            }
            for (String s : List.of("attention.output.LayerNorm", "output.LayerNorm")) {
                m.put(p + s + ".weight", new int[] {h});
                m.put(p + s + ".bias", new int[] {h});
            }
            m.put(p + "intermediate.dense.weight", new int[] {inter, h});
            m.put(p + "intermediate.dense.bias", new int[] {inter});
            m.put(p + "output.dense.weight", new int[] {h, inter});
            m.put(p + "output.dense.bias", new int[] {h});
        }
        return m;
    }

    /**
     * The head count: attention splits [batch, seq, hidden] with a Reshape to [batch, seq, heads,
     * head_dim], whose target is a constant or a Concat of dynamic dims and constants.
     */
    private static int heads(Graph g, int hidden, String src) {
        Set<Integer> seen = new TreeSet<>();
        for (Node n : g.model.nodes()) {
            if (!n.opType().equals("Reshape") || n.inputs().size() < 2) continue;
            long[] shape = shapeValue(g, n.inputs().get(1));
            if (shape == null || shape.length != 4) continue;
            long heads = shape[2], dim = shape[3];
            // Each factor at most hidden, so the product cannot overflow into a false match.
            if (heads > 0 && dim > 0 && heads <= hidden && dim <= hidden && heads * dim == hidden) seen.add((int) heads);
        }
        if (seen.size() != 1) {
            throw new ConversionException(src + ": cannot infer num_attention_heads: looked for Reshape targets [b, s, heads, head_dim]"
                    + " with heads*head_dim = hidden_size " + hidden + ", found head counts " + seen);
        }
        return seen.iterator().next();
    }

    /**
     * A rank-4 shape tensor's values with -1 for parts only known at run time; null if it is not one.
     * Memoized, and nothing longer than 4 is decoded: many Reshapes sharing one large constant or one
     * Concat of many inputs would otherwise decode it once per Reshape.
     */
    private static long[] shapeValue(Graph g, String name) {
        return g.shapeValues.computeIfAbsent(name, k -> Optional.ofNullable(computeShapeValue(g, k))).orElse(null);
    }

    private static long[] computeShapeValue(Graph g, String name) {
        OnnxTensor t = g.fixed(name);
        if (t != null) return t.dataType() == OnnxModel.INT64 && t.numel() == 4 ? t.longs() : null;
        Node p = g.producer.get(name);
        if (p == null || !p.opType().equals("Concat")) return null;
        long[] out = new long[4];
        int n = 0;
        for (String in : p.inputs()) {
            OnnxTensor c = g.fixed(in);
            long[] part = c != null && c.dataType() == OnnxModel.INT64 ? (c.numel() <= 4 ? c.longs() : null) : new long[] {-1};
            // -1: an Unsqueeze of a Shape/Gather scalar, one dynamic dim
            if (part == null || n + part.length > 4) return null;
            for (long v : part) out[n++] = v;
        }
        return n == 4 ? out : null;
    }

    /**
     * LayerNorm's epsilon: LayerNormalization's attribute, or in the decomposed form
     * (ReduceMean, Sub, Pow, ReduceMean, Add(eps), Sqrt, Div) the scalar added to the variance.
     */
    private static double layerNormEps(Graph g, String src) {
        Set<Float> seen = new TreeSet<>();
        for (Node n : g.model.nodes()) {
            if (n.opType().equals("LayerNormalization")) {
                seen.add(n.attrFloat("epsilon", 1e-5f));
            } else if (n.opType().equals("Add") && n.inputs().size() == 2) {
                for (int k = 0; k < 2; k++) {
                    Node mean = g.producer.get(n.inputs().get(k));
                    OnnxTensor eps = g.fixed(n.inputs().get(1 - k));
                    if (mean == null || !mean.opType().equals("ReduceMean") || mean.inputs().isEmpty() || eps == null
                            || eps.numel() != 1 || !Graph.isFloat(eps)) continue;
                    String sq = g.op(mean.inputs().getFirst()); // the variance averages squares
                    if (sq.equals("Pow") || sq.equals("Mul")) seen.add(eps.floats()[0]);
                }
            }
        }
        if (seen.size() != 1) {
            throw new ConversionException(src + ": cannot infer layer_norm_eps: looked for LayerNormalization nodes or"
                    + " Add(ReduceMean(x^2), eps); found epsilons " + seen);
        }
        float eps = seen.iterator().next();
        if (!(eps > 0) || Float.isInfinite(eps)) {
            throw new ConversionException(src + ": layer_norm_eps " + eps + " in the graph is not a positive number");
        }
        // The graph holds a float32; its shortest decimal (1e-12, not 9.99999996e-13) is what config.json had.
        return Double.parseDouble(Float.toString(eps));
    }

    /** The activation: exact GELU shows as Erf, the tanh approximation as Tanh. */
    private static String hiddenAct(Graph g, String src) {
        Set<String> ops = new TreeSet<>();
        for (Node n : g.model.nodes()) if (n.name().contains("/intermediate/")) ops.add(n.opType());
        if (ops.isEmpty()) for (Node n : g.model.nodes()) ops.add(n.opType());
        for (Node n : g.model.nodes()) {
            if (n.opType().equals("Gelu") && n.name().contains("/intermediate/")) {
                Map<String, OnnxModel.Attribute> a = n.attributes();
                return a.containsKey("approximate") && "tanh".equals(a.get("approximate").s()) ? "gelu_new" : "gelu";
            }
        }
        if (ops.contains("Erf")) return "gelu";
        if (ops.contains("Tanh")) return "gelu_new";
        if (ops.contains("Relu")) return "relu";
        throw new ConversionException(src + ": cannot infer hidden_act: no Erf (gelu), Tanh (gelu_new), Gelu or Relu"
                + " among the intermediate layer's ops " + ops);
    }
}
