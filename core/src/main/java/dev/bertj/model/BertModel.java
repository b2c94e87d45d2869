package dev.bertj.model;

import dev.bertj.cpu.Kernels;
import dev.bertj.cpu.Vectorization;
import dev.bertj.nn.Gradients;
import dev.bertj.io.SafeTensors;
import dev.bertj.tensor.Tensor;
import dev.bertj.tokenizer.Batch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * HF's {@code BertModel}: embeddings, an encoder of N {@link BertLayer}s, and the pooler.
 * Immutable after loading: one instance serves concurrent forward calls, each with its own
 * activations.
 */
public final class BertModel {
    final BertConfig config;
    final BertEmbeddings embeddings;
    final List<BertLayer> layers;
    final BertPooler pooler;
    private final Map<String, Tensor> parameters;
    private final List<String> newlyInitialized;
    private final Kernels kernels;
    /** Training activations per calling thread, reused across steps (see {@link Arena}). */
    private final ThreadLocal<Arena> trainArena = ThreadLocal.withInitial(Arena::new);
    /** Inference buffers per calling thread (see {@link Workspace}). */
    private final ThreadLocal<Workspace> workspace = ThreadLocal.withInitial(Workspace::new);

    BertModel(BertConfig config, WeightSource w) {
        this.config = config;
        this.embeddings = new BertEmbeddings(config, w);
        List<BertLayer> ls = new ArrayList<>();
        for (int i = 0; i < config.numHiddenLayers(); i++) ls.add(new BertLayer(config, w, i));
        this.layers = List.copyOf(ls);
        this.pooler = new BertPooler(config, w);
        this.parameters = Collections.unmodifiableMap(new LinkedHashMap<>(w.parameters()));
        this.newlyInitialized = w.finish();
        this.kernels = Vectorization.kernels();
    }

    /**
     * Loads {@code config.json} and {@code model.safetensors} from a directory. Tensor names may
     * carry the {@code bert.} prefix of task checkpoints. Missing weights are initialised (seeded)
     * with a warning naming them, as HF does.
     */
    public static BertModel fromPretrained(Path dir) throws IOException {
        BertConfig config = BertConfig.read(requireFile(dir.resolve("config.json")));
        Path st = requireFile(dir.resolve("model.safetensors"));
        return new BertModel(config, new WeightSource(loadWeights(st, "bert."), st.toString(), config.initializerRange(), 42));
    }

    /** A model with these weights (HF names, prefix stripped); missing ones are initialised from {@code seed}. */
    public static BertModel of(BertConfig config, Map<String, Tensor> weights, long seed) {
        return new BertModel(config, new WeightSource(weights, "the given weights", config.initializerRange(), seed));
    }

    static Path requireFile(Path p) throws IOException {
        if (!Files.isRegularFile(p)) throw new java.nio.file.NoSuchFileException(p.toString(), null, "missing model file");
        return p;
    }

    /** All tensors of a safetensors file, with {@code stripPrefix} removed from names that have it. */
    static Map<String, Tensor> loadWeights(Path file, String stripPrefix) throws IOException {
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (SafeTensors st = SafeTensors.open(file)) {
            for (String name : st.names()) {
                // Buffers such as embeddings.position_ids (I64) are not weights.
                if (!List.of("F32", "F16", "BF16").contains(st.info(name).dtype())) continue;
                String key = name.startsWith(stripPrefix) ? name.substring(stripPrefix.length()) : name;
                out.put(key, st.load(name));
            }
        }
        return out;
    }

    /** The configuration. */
    public BertConfig config() {
        return config;
    }

    /** Every weight by HF name (without {@code bert.}), in module order. */
    public Map<String, Tensor> parameters() {
        return parameters;
    }

    /** Names the checkpoint lacked, initialised at load (empty for a complete checkpoint). */
    public List<String> newlyInitialized() {
        return newlyInitialized;
    }

    /** Whether the pooler came from the checkpoint rather than from initialisation. */
    public boolean hasPretrainedPooler() {
        return !newlyInitialized.contains("pooler.dense.weight");
    }

    /** Forward on a collated batch (no hidden states or attentions). */
    public BertModelOutput forward(Batch batch) {
        return forward(batch.inputIds(), batch.tokenTypeIds(), batch.attentionMask(), batch.batchSize(), batch.seqLen(), false, false);
    }

    /**
     * The forward pass in inference mode.
     *
     * @param inputIds [B*S] row-major
     * @param tokenTypeIds [B*S], or null for all zeros
     * @param attentionMask [B*S] of 0/1, or null for all ones
     */
    public BertModelOutput forward(int[] inputIds, int[] tokenTypeIds, int[] attentionMask, int batch, int seq,
                                   boolean outputHiddenStates, boolean outputAttentions) {
        int h = config.hiddenSize(), heads = config.numAttentionHeads();
        if (seq > config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("sequence length " + seq + " is longer than max_position_embeddings "
                    + config.maxPositionEmbeddings() + "; truncate the input (e.g. --max-length " + config.maxPositionEmbeddings() + ")");
        }
        int n = batch * seq;
        checkLength("input_ids", inputIds, n, batch, seq);
        if (tokenTypeIds != null) checkLength("token_type_ids", tokenTypeIds, n, batch, seq);
        if (attentionMask != null) checkLength("attention_mask", attentionMask, n, batch, seq);
        List<Tensor> hidden = new ArrayList<>(), attn = new ArrayList<>();
        Workspace w = workspace.get().fit(config, n);
        float[] result = new float[n * h];
        // Layers ping-pong between two workspace buffers; the last writes the returned array.
        float[] x = layers.isEmpty() ? result : w.hiddenA;
        embeddings.forward(inputIds, tokenTypeIds, batch, seq, x);
        if (outputHiddenStates) hidden.add(new Tensor(java.util.Arrays.copyOf(x, n * h), batch, seq, h));
        float[] maskAdd = BertSelfAttention.additiveMask(attentionMask, n);
        for (int i = 0; i < layers.size(); i++) {
            float[] y = i == layers.size() - 1 ? result : (x == w.hiddenA ? w.hiddenB : w.hiddenA);
            float[] probs = outputAttentions ? new float[batch * heads * seq * seq] : null;
            layers.get(i).forward(kernels, x, maskAdd, batch, seq, y, probs, w);
            x = y;
            if (outputHiddenStates) hidden.add(new Tensor(java.util.Arrays.copyOf(x, n * h), batch, seq, h));
            if (outputAttentions) attn.add(new Tensor(probs, batch, heads, seq, seq));
        }
        float[] pooled = new float[batch * h];
        pooler.forward(kernels, x, batch, seq, pooled);
        return new BertModelOutput(new Tensor(x, batch, seq, h), new Tensor(pooled, batch, h), List.copyOf(hidden), List.copyOf(attn));
    }

    /** A training forward pass: its outputs, and what backward needs. */
    public static final class TrainPass {
        final BertEmbeddings.Ctx embeddings;
        final List<BertLayer.Ctx> layers;
        final BertPooler.Ctx pooler;
        final BertModelOutput output;
        final int batch;
        final int seq;
        final Arena arena;

        TrainPass(BertEmbeddings.Ctx embeddings, List<BertLayer.Ctx> layers, BertPooler.Ctx pooler, BertModelOutput output, int batch, int seq, Arena arena) {
            this.arena = arena;
            this.embeddings = embeddings;
            this.layers = layers;
            this.pooler = pooler;
            this.output = output;
            this.batch = batch;
            this.seq = seq;
        }

        /** A zeroed array that lives as long as this pass (for a head's d loss / d hidden). */
        float[] zeros(int n) {
            return arena.zerosHere(n);
        }

        /** last_hidden_state and pooler_output of this pass. */
        public BertModelOutput output() {
            return output;
        }
    }

    /**
     * The forward pass in training mode: dropout per {@code mode}, and everything backward needs kept.
     * The pass's arrays are reused by the next {@code forwardTrain} on the same thread (so a training
     * loop allocates almost nothing): finish with a pass, backward included, before starting the next.
     */
    public TrainPass forwardTrain(Batch b, TrainMode mode) {
        int seq = b.seqLen();
        if (seq > config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("sequence length " + seq + " is longer than max_position_embeddings " + config.maxPositionEmbeddings());
        }
        Arena arena = trainArena.get();
        arena.begin();
        try {
            return forwardTrain(b, mode, arena);
        } finally {
            Arena.deactivate();
        }
    }

    private TrainPass forwardTrain(Batch b, TrainMode mode, Arena arena) {
        int batch = b.batchSize(), seq = b.seqLen(), h = config.hiddenSize(), n = batch * seq;
        float[] x = Arena.floats(n * h);
        BertEmbeddings.Ctx e = embeddings.forwardTrain(b.inputIds(), b.tokenTypeIds(), batch, seq, x, mode);
        List<BertLayer.Ctx> ctxs = new ArrayList<>();
        for (BertLayer layer : layers) {
            float[] y = Arena.floats(n * h);
            ctxs.add(layer.forwardTrain(kernels, x, b.attentionMask(), batch, seq, y, mode));
            x = y;
        }
        float[] pooled = Arena.floats(batch * h);
        BertPooler.Ctx p = pooler.forward(kernels, x, batch, seq, pooled);
        BertModelOutput out = new BertModelOutput(new Tensor(x, batch, seq, h), new Tensor(pooled, batch, h), List.of(), List.of());
        return new TrainPass(e, ctxs, p, out, batch, seq, arena);
    }

    /**
     * Backward from d loss / d last_hidden_state and / or d loss / d pooler_output (either may be
     * null; both are consumed), accumulating every parameter's gradient into {@code g}.
     */
    public void backward(TrainPass pass, float[] dLastHidden, float[] dPooled, Gradients g) {
        int h = config.hiddenSize();
        pass.arena.activate();
        try {
            float[] d = dLastHidden != null ? dLastHidden : Arena.zeros(pass.batch * pass.seq * h);
            if (dPooled != null) pooler.backward(kernels, pass.pooler, dPooled, d, g);
            for (int i = layers.size() - 1; i >= 0; i--) d = layers.get(i).backward(kernels, pass.layers.get(i), d, g);
            embeddings.backward(pass.embeddings, d, g);
        } finally {
            Arena.deactivate();
        }
    }

    private static void checkLength(String what, int[] a, int n, int batch, int seq) {
        if (a.length != n) throw new IllegalArgumentException(what + " has " + a.length + " values; batch " + batch + " x seq " + seq + " needs " + n);
    }
}
