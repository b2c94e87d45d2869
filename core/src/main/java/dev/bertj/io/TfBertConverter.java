package dev.bertj.io;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Maps Google's original BERT TensorFlow checkpoint (as {@code run_pretraining.py} and the TF Hub
 * module write it) onto Hugging Face's {@code BertForMaskedLM} names, and writes it as
 * {@code model.safetensors}.
 *
 * <p>Names: {@code bert/…} or {@code module/bert/…} (TF Hub's SavedModel) become {@code bert.…};
 * {@code layer_N} becomes {@code layer.N}; LayerNorm {@code gamma}/{@code beta} become
 * {@code weight}/{@code bias}; dense {@code kernel}s, stored {@code [in, out]} for
 * {@code x @ kernel}, are transposed to PyTorch's {@code [out, in]}. The MLM head becomes
 * {@code cls.predictions.transform.…} and {@code cls.predictions.bias}; its decoder weight is the
 * word embedding matrix, so, as HF's {@code save_pretrained} does for tied weights in safetensors,
 * neither {@code cls.predictions.decoder.weight} nor {@code cls.predictions.decoder.bias} is
 * written (HF ties them back on load). The NSP head, when present, becomes
 * {@code cls.seq_relationship.weight/bias} (its TF matrix is already {@code [out, in]}).
 * Optimizer slots ({@code adam_m}, {@code adam_v}) and {@code global_step} are skipped.
 *
 * <p>A checkpoint holds no head count: it comes from a {@code bert_config.json} when the caller has
 * one, else from Google's convention of 64-dimensional heads ({@code hidden_size / 64}).
 */
public final class TfBertConverter {
    private TfBertConverter() { }

    /** One tensor to write: its HF name and shape, and where its values come from. */
    public record Mapped(String hfName, int[] shape, String tfName, boolean transpose) { }

    /**
     * The plan of a conversion.
     *
     * @param tensors HF name to source, in HF's sorted order (as {@code save_pretrained} writes safetensors)
     * @param config config.json keys, sorted, as HF writes them
     * @param skipped checkpoint variables that have no HF name (optimizer state, unknown variables)
     */
    public record Plan(Map<String, Mapped> tensors, Map<String, Object> config, List<String> skipped) { }

    private static final Pattern LAYER = Pattern.compile("bert/encoder/layer_(\\d+)/(.+)");
    private static final Map<String, String> LAYER_NAMES = new LinkedHashMap<>();
    private static final Map<String, String> TOP_NAMES = new LinkedHashMap<>();

    static {
        for (String lin : List.of("attention/self/query", "attention/self/key", "attention/self/value",
                "attention/output/dense", "intermediate/dense", "output/dense")) {
            LAYER_NAMES.put(lin + "/kernel", lin.replace('/', '.') + ".weight");
            LAYER_NAMES.put(lin + "/bias", lin.replace('/', '.') + ".bias");
        }
        for (String ln : List.of("attention/output/LayerNorm", "output/LayerNorm")) {
            LAYER_NAMES.put(ln + "/gamma", ln.replace('/', '.') + ".weight");
            LAYER_NAMES.put(ln + "/beta", ln.replace('/', '.') + ".bias");
        }
        for (String e : List.of("word_embeddings", "position_embeddings", "token_type_embeddings")) {
            TOP_NAMES.put("bert/embeddings/" + e, "bert.embeddings." + e + ".weight");
        }
        TOP_NAMES.put("bert/embeddings/LayerNorm/gamma", "bert.embeddings.LayerNorm.weight");
        TOP_NAMES.put("bert/embeddings/LayerNorm/beta", "bert.embeddings.LayerNorm.bias");
        TOP_NAMES.put("bert/pooler/dense/kernel", "bert.pooler.dense.weight");
        TOP_NAMES.put("bert/pooler/dense/bias", "bert.pooler.dense.bias");
        TOP_NAMES.put("cls/predictions/transform/dense/kernel", "cls.predictions.transform.dense.weight");
        TOP_NAMES.put("cls/predictions/transform/dense/bias", "cls.predictions.transform.dense.bias");
        TOP_NAMES.put("cls/predictions/transform/LayerNorm/gamma", "cls.predictions.transform.LayerNorm.weight");
        TOP_NAMES.put("cls/predictions/transform/LayerNorm/beta", "cls.predictions.transform.LayerNorm.bias");
        TOP_NAMES.put("cls/predictions/output_bias", "cls.predictions.bias");
        TOP_NAMES.put("cls/seq_relationship/output_weights", "cls.seq_relationship.weight");
        TOP_NAMES.put("cls/seq_relationship/output_bias", "cls.seq_relationship.bias");
    }

    /**
     * Plans the conversion of {@code bundle}.
     *
     * @param bertConfig the values of a Google {@code bert_config.json} (may be empty): its
     *     {@code num_attention_heads}, {@code hidden_act} and dropout/initializer values are used, its
     *     sizes must agree with the weights
     * @throws TensorBundle.BundleException naming the tensor when a required weight is missing, a shape
     *     is inconsistent, or both {@code bert/x} and {@code module/bert/x} are present
     */
    public static Plan plan(TensorBundle bundle, Map<String, Object> bertConfig) {
        String src = bundle.indexFile().toString();
        Map<String, String> byShortName = new LinkedHashMap<>(); // name without "module/" -> real name
        List<String> skipped = new ArrayList<>();
        for (String name : bundle.names()) {
            String shortName = name.startsWith("module/") ? name.substring("module/".length()) : name;
            if (isOptimizerState(shortName)) {
                skipped.add(name);
                continue;
            }
            String earlier = byShortName.putIfAbsent(shortName, name);
            if (earlier != null) throw new TensorBundle.BundleException(src + ": both '" + earlier + "' and '" + name + "' are present; which one is the model is ambiguous");
        }
        Map<String, Mapped> out = new TreeMap<>();
        TreeSet<Integer> layers = new TreeSet<>();
        for (Map.Entry<String, String> e : byShortName.entrySet()) {
            String shortName = e.getKey(), name = e.getValue();
            String hf = TOP_NAMES.get(shortName);
            Matcher m = LAYER.matcher(shortName);
            if (hf == null && m.matches() && LAYER_NAMES.containsKey(m.group(2))) {
                int layer = Integer.parseInt(m.group(1));
                layers.add(layer);
                hf = "bert.encoder.layer." + layer + "." + LAYER_NAMES.get(m.group(2));
            }
            if (hf == null) {
                skipped.add(name);
                continue;
            }
            TensorBundle.Entry entry = bundle.entry(name);
            if (!entry.dtype().equals("DT_FLOAT")) {
                throw new TensorBundle.BundleException(src + ": tensor '" + name + "' has dtype " + entry.dtype() + "; bertj converts DT_FLOAT weights only");
            }
            boolean transpose = shortName.endsWith("/kernel");
            int[] shape = entry.intShape();
            if (transpose) {
                if (shape.length != 2) throw new TensorBundle.BundleException(src + ": tensor '" + name + "' is a kernel of shape " + Arrays.toString(shape) + ", not a matrix");
                shape = new int[] {shape[1], shape[0]};
            }
            out.put(hf, new Mapped(hf, shape, name, transpose));
        }
        Map<String, Object> config = config(src, out, layers, bertConfig);
        return new Plan(java.util.Collections.unmodifiableMap(out), config, List.copyOf(skipped));
    }

    /**
     * Writes the planned tensors as {@code file} (F32 safetensors, {@code format: pt}) while holding
     * one tensor at a time; each tensor's crc32c is verified as it is read.
     */
    public static void write(TensorBundle bundle, Plan plan, Path file, OnnxBertConverter.Progress progress) throws IOException {
        Map<String, int[]> shapes = new LinkedHashMap<>();
        plan.tensors().forEach((k, v) -> shapes.put(k, v.shape()));
        int total = shapes.size();
        int[] done = {0};
        SafeTensorsWriter.writeStreaming(file, shapes, name -> {
            Mapped m = plan.tensors().get(name);
            float[] v = bundle.floats(m.tfName());
            if (m.transpose()) v = transpose(v, m.shape()[1], m.shape()[0]);
            progress.update(++done[0], total, name);
            return v;
        }, Map.of("format", "pt"));
    }

    /** {@code [rows, cols]} row-major to {@code [cols, rows]}, in tiles so both sides stay in cache. */
    static float[] transpose(float[] a, int rows, int cols) {
        float[] t = new float[a.length];
        final int tile = 32;
        for (int r0 = 0; r0 < rows; r0 += tile) {
            for (int c0 = 0; c0 < cols; c0 += tile) {
                for (int r = r0; r < Math.min(r0 + tile, rows); r++) {
                    for (int c = c0; c < Math.min(c0 + tile, cols); c++) t[c * rows + r] = a[r * cols + c];
                }
            }
        }
        return t;
    }

    private static boolean isOptimizerState(String name) {
        return name.equals("global_step") || name.endsWith("/adam_m") || name.endsWith("/adam_v")
                || name.startsWith("AdamWeightDecayOptimizer") || name.contains("/AdamWeightDecayOptimizer");
    }

    /** Infers config.json from the weights' shapes and checks every weight's shape against it. */
    private static Map<String, Object> config(String src, Map<String, Mapped> t, TreeSet<Integer> layers, Map<String, Object> given) {
        int[] word = require(src, t, "bert.embeddings.word_embeddings.weight", 2);
        int vocab = word[0], hidden = word[1];
        int positions = require(src, t, "bert.embeddings.position_embeddings.weight", 2)[0];
        int types = require(src, t, "bert.embeddings.token_type_embeddings.weight", 2)[0];
        if (layers.isEmpty()) throw new TensorBundle.BundleException(src + ": no encoder layers (bert/encoder/layer_N/...) in this checkpoint");
        if (layers.first() != 0 || layers.last() != layers.size() - 1) {
            throw new TensorBundle.BundleException(src + ": encoder layers " + layers + " are not numbered 0.." + (layers.size() - 1));
        }
        int intermediate = require(src, t, "bert.encoder.layer.0.intermediate.dense.weight", 2)[0];
        Map<String, int[]> expected = new LinkedHashMap<>();
        expected.put("bert.embeddings.word_embeddings.weight", new int[] {vocab, hidden});
        expected.put("bert.embeddings.position_embeddings.weight", new int[] {positions, hidden});
        expected.put("bert.embeddings.token_type_embeddings.weight", new int[] {types, hidden});
        expected.put("bert.embeddings.LayerNorm.weight", new int[] {hidden});
        expected.put("bert.embeddings.LayerNorm.bias", new int[] {hidden});
        for (int l : layers) {
            for (Map.Entry<String, String> e : LAYER_NAMES.entrySet()) {
                String hf = "bert.encoder.layer." + l + "." + e.getValue();
                boolean isWeight = e.getKey().endsWith("/kernel");
                int out = e.getKey().startsWith("intermediate/") ? intermediate : hidden;
                int in = e.getKey().startsWith("output/dense") ? intermediate : hidden;
                expected.put(hf, isWeight ? new int[] {out, in} : new int[] {out});
            }
        }
        boolean pooler = optionalGroup(src, t, "bert.pooler.");
        if (pooler) {
            expected.put("bert.pooler.dense.weight", new int[] {hidden, hidden});
            expected.put("bert.pooler.dense.bias", new int[] {hidden});
        }
        boolean mlm = optionalGroup(src, t, "cls.predictions.");
        if (mlm) {
            expected.put("cls.predictions.transform.dense.weight", new int[] {hidden, hidden});
            expected.put("cls.predictions.transform.dense.bias", new int[] {hidden});
            expected.put("cls.predictions.transform.LayerNorm.weight", new int[] {hidden});
            expected.put("cls.predictions.transform.LayerNorm.bias", new int[] {hidden});
            expected.put("cls.predictions.bias", new int[] {vocab});
        }
        if (optionalGroup(src, t, "cls.seq_relationship.")) {
            expected.put("cls.seq_relationship.weight", new int[] {2, hidden});
            expected.put("cls.seq_relationship.bias", new int[] {2});
        }
        for (Map.Entry<String, int[]> e : expected.entrySet()) {
            Mapped m = t.get(e.getKey());
            if (m == null) throw new TensorBundle.BundleException(src + ": the checkpoint has no " + tfName(e.getKey()) + " (for " + e.getKey() + ")");
            if (!Arrays.equals(m.shape(), e.getValue())) {
                throw new TensorBundle.BundleException(src + ": tensor '" + m.tfName() + "' has shape " + Arrays.toString(m.shape())
                        + (m.transpose() ? " (transposed)" : "") + " where " + e.getKey() + " needs " + Arrays.toString(e.getValue())
                        + " (hidden " + hidden + ", intermediate " + intermediate + ", vocabulary " + vocab + ")");
            }
        }
        if (!expected.keySet().containsAll(t.keySet())) {
            List<String> extra = t.keySet().stream().filter(k -> !expected.containsKey(k)).toList();
            throw new TensorBundle.BundleException(src + ": incomplete head weights: " + extra);
        }
        int heads = hidden / 64;
        if (given.get("num_attention_heads") != null) heads = (int) Json.asLong(given.get("num_attention_heads"), "bert_config.json: num_attention_heads");
        if (heads <= 0 || hidden % heads != 0) {
            throw new TensorBundle.BundleException(src + ": cannot split hidden size " + hidden + " into " + heads + " attention heads; give a bert_config.json with num_attention_heads");
        }
        Map<String, Object> c = new TreeMap<>();
        c.put("architectures", List.of(mlm ? "BertForMaskedLM" : "BertModel"));
        c.put("attention_probs_dropout_prob", given.getOrDefault("attention_probs_dropout_prob", 0.1));
        c.put("classifier_dropout", null);
        c.put("gradient_checkpointing", false);
        c.put("hidden_act", given.getOrDefault("hidden_act", "gelu"));
        c.put("hidden_dropout_prob", given.getOrDefault("hidden_dropout_prob", 0.1));
        c.put("hidden_size", (long) hidden);
        c.put("initializer_range", given.getOrDefault("initializer_range", 0.02));
        c.put("intermediate_size", (long) intermediate);
        c.put("layer_norm_eps", 1e-12); // Google's modeling.py layer_norm: tf.contrib.layers.layer_norm's epsilon
        c.put("max_position_embeddings", (long) positions);
        c.put("model_type", "bert");
        c.put("num_attention_heads", (long) heads);
        c.put("num_hidden_layers", (long) layers.size());
        c.put("pad_token_id", 0L);
        c.put("position_embedding_type", "absolute");
        c.put("type_vocab_size", (long) types);
        c.put("use_cache", true);
        c.put("vocab_size", (long) vocab);
        for (String k : List.of("hidden_size", "intermediate_size", "max_position_embeddings", "num_hidden_layers", "type_vocab_size", "vocab_size")) {
            Object v = given.get(k);
            if (v != null && Json.asLong(v, "bert_config.json: " + k) != (Long) c.get(k)) {
                throw new TensorBundle.BundleException(src + ": bert_config.json says " + k + " = " + v + " but the weights have " + c.get(k));
            }
        }
        return java.util.Collections.unmodifiableMap(c);
    }

    private static int[] require(String src, Map<String, Mapped> t, String hf, int rank) {
        Mapped m = t.get(hf);
        if (m == null) throw new TensorBundle.BundleException(src + ": the checkpoint has no " + tfName(hf) + " (for " + hf + ")");
        if (m.shape().length != rank) throw new TensorBundle.BundleException(src + ": tensor '" + m.tfName() + "' has shape " + Arrays.toString(m.shape()) + ", expected rank " + rank);
        return m.shape();
    }

    private static boolean optionalGroup(String src, Map<String, Mapped> t, String prefix) {
        return t.keySet().stream().anyMatch(k -> k.startsWith(prefix));
    }

    /** The TF name (without module/) that maps to {@code hf}, for messages. */
    private static String tfName(String hf) {
        for (Map.Entry<String, String> e : TOP_NAMES.entrySet()) if (e.getValue().equals(hf)) return "'" + e.getKey() + "'";
        Matcher m = Pattern.compile("bert\\.encoder\\.layer\\.(\\d+)\\.(.+)").matcher(hf);
        if (m.matches()) {
            for (Map.Entry<String, String> e : LAYER_NAMES.entrySet()) {
                if (e.getValue().equals(m.group(2))) return "'bert/encoder/layer_" + m.group(1) + "/" + e.getKey() + "'";
            }
        }
        return hf;
    }
}
