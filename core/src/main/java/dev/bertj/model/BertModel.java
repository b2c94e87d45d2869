package dev.bertj.model;

import dev.bertj.backend.Activation;
import dev.bertj.backend.Arena;
import dev.bertj.backend.Backend;
import dev.bertj.backend.Backends;
import dev.bertj.backend.Buf;
import dev.bertj.backend.Device;
import dev.bertj.nn.Gradients;
import dev.bertj.io.AtomicFiles;
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
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * HF's {@code BertModel}: {@link BertEmbeddings}, a {@link BertEncoder} of N {@link BertLayer}s, and the {@link BertPooler}.
 * Immutable after loading: one instance serves concurrent forward calls, each with its own
 * activations.
 *
 * <p>{@link #close()} releases the activation arenas and the backend's copies of the weights (the
 * CPU's packed GEMM layouts, a GPU's device copies). Nothing static refers to a model, so one that is
 * dropped without closing is collected too, with everything it holds.
 */
public final class BertModel implements AutoCloseable {
    final BertConfig config;
    final BertEmbeddings embeddings;
    final BertEncoder encoder;
    final BertPooler pooler;
    private final Map<String, Tensor> parameters;
    private final List<String> newlyInitialized;
    private final String source;
    private volatile boolean poolerWarned;
    private volatile boolean closed;
    /** The backend the model runs on, and the arenas of its passes. */
    private volatile Placement placement = new Placement(Backends.cpu());

    /**
     * Where the model runs: the backend, and the arenas its passes reuse their buffers from (see
     * {@link Arena}). The model owns them: in a {@code ThreadLocal} an arena would stay in every thread
     * that ever ran a pass (the common pool's, a web server's) until that thread touched the map again,
     * long after the model was dropped.
     */
    private static final class Placement {
        final Backend backend;
        /** Idle inference arenas: a pass takes one and gives it back, so there are as many as passes ever ran at once. */
        private final ConcurrentLinkedDeque<Arena> idle = new ConcurrentLinkedDeque<>();
        /** One training arena per thread: a TrainPass stays valid until that thread's next forwardTrain. Threads are weak keys. */
        private final Map<Thread, Arena> train = new WeakHashMap<>();

        Placement(Backend backend) {
            this.backend = backend;
        }

        Backend backend() {
            return backend;
        }

        Arena takeInference() {
            Arena a = idle.pollFirst(); // last in, first out: the arena whose buffers fit the last shape
            return a != null ? a : backend.newArena();
        }

        void giveBack(Arena a, boolean closed) {
            if (closed) a.close();
            else idle.offerFirst(a);
        }

        Arena train() {
            synchronized (train) {
                return train.computeIfAbsent(Thread.currentThread(), t -> backend.newArena());
            }
        }

        void close() {
            for (Arena a; (a = idle.pollFirst()) != null; ) a.close();
            synchronized (train) {
                train.values().forEach(Arena::close);
                train.clear();
            }
        }
    }

    BertModel(BertConfig config, WeightSource w) {
        this.config = config;
        this.embeddings = new BertEmbeddings(config, w);
        this.encoder = new BertEncoder(config, w);
        this.pooler = new BertPooler(config, w);
        this.parameters = Collections.unmodifiableMap(new LinkedHashMap<>(w.parameters()));
        this.newlyInitialized = w.finish(name -> name.startsWith("pooler."));
        this.source = w.source();
    }

    /**
     * Says, with HF's warning and once per model, that the pooler is newly initialised when it is:
     * called by whatever uses pooler_output (a head on the pooler), so embedding with mean or CLS
     * pooling stays quiet.
     */
    void usingPooler() {
        if (hasPretrainedPooler() || poolerWarned) return;
        poolerWarned = true;
        WeightSource.warn(source, newlyInitialized.stream().filter(n -> n.startsWith("pooler.")).toList());
    }

    /**
     * Moves the model to {@code device} and returns it, as PyTorch's {@code model.to(device)}: later
     * passes run there. Weights are copied to the device on first use; after training there, reading a
     * parameter's {@link Tensor#data()} fetches it back.
     *
     * @throws IllegalStateException with one sentence saying what is missing when the device cannot be used here
     */
    public BertModel to(Device device) {
        return to(Backends.of(device));
    }

    /**
     * Moves the model onto this backend instance (for one opened with particular settings, such as
     * bertj-cuda's {@code CudaBackend.open(0, Precision.BF16)}) and returns it.
     */
    public BertModel to(Backend backend) {
        if (backend == placement.backend()) return this;
        // Refuse here, in one sentence, rather than in the middle of a pass.
        for (Activation act : List.of(config.activation(), Activation.TANH, Activation.RELU)) {
            if (!backend.supports(act)) {
                throw new IllegalStateException("the " + backend.name() + " backend has no " + act.hfName() + " activation, which this model"
                        + (act == config.activation() ? "'s hidden_act is" : " needs") + "; run it on the CPU");
            }
        }
        Placement old = placement;
        placement = new Placement(backend);
        old.close();
        return this;
    }

    /** What a head computes on the backend after the encoder's forward. */
    interface HeadInference {
        /** Writes the logits into {@code logits} (a host array) and returns the loss, or NaN without labels. */
        float run(Backend be, float[] logits);
    }

    /**
     * Runs a head's inference layers on this model's backend, allocating from the calling thread's
     * inference arena (recycled with the encoder's buffers at the next call; a GPU runs one at a time).
     */
    float headInference(float[] logits, HeadInference head) {
        Placement pl = open("forward");
        Backend be = pl.backend();
        Arena arena = pl.takeInference();
        try {
            synchronized (lock(be)) {
                arena.activate();
                try {
                    return head.run(be, logits);
                } finally {
                    Arena.deactivate();
                }
            }
        } finally {
            pl.giveBack(arena, closed);
        }
    }

    /** The placement, or one sentence naming {@code method} when the model was closed. */
    private Placement open(String method) {
        if (closed) throw new IllegalStateException("BertModel." + method + ": the model was closed");
        return placement;
    }

    /**
     * Releases what the model holds beyond its weights: every idle activation arena and the backend's
     * copies of its parameters (packed GEMM layouts on the CPU, device memory on a GPU). Later passes
     * fail with {@link IllegalStateException}; close once the passes in flight have returned. Idempotent.
     */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        Placement pl = placement;
        pl.close();
        pl.backend().forget(parameters.values());
    }

    /** Whether {@link #close()} was called. */
    public boolean isClosed() {
        return closed;
    }

    /** The device the model runs on. */
    public Device device() {
        return placement.backend().device();
    }

    /** The backend the model runs on (heads run their layers on it too). */
    public Backend backend() {
        return placement.backend();
    }

    /**
     * Loads {@code config.json} and {@code model.safetensors} from a directory. Tensor names may
     * carry the {@code bert.} prefix of task checkpoints. Missing weights are initialised (seeded)
     * with a warning naming them, as HF does.
     */
    public static BertModel fromPretrained(Path dir) throws IOException {
        BertConfig config = BertConfig.read(AtomicFiles.requireFile(dir.resolve("config.json"), "missing model file"));
        Path st = AtomicFiles.requireFile(dir.resolve("model.safetensors"), "missing model file");
        return new BertModel(config, new WeightSource(loadWeights(st, "bert."), st.toString(), config.initializerRange(), 42));
    }

    /** A model with these weights (HF names, prefix stripped); missing ones are initialised from {@code seed}. */
    public static BertModel of(BertConfig config, Map<String, Tensor> weights, long seed) {
        return new BertModel(config, new WeightSource(weights, "the given weights", config.initializerRange(), seed));
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
     * The forward pass in inference mode. A right-padded batch (each mask row ones, then zeros) runs
     * padding-free, on its real tokens only, unless hidden states or attentions are asked for; its
     * last_hidden_state then holds zeros at the padded positions (HF's values there are never read).
     *
     * @param inputIds [B*S] row-major
     * @param tokenTypeIds [B*S], or null for all zeros
     * @param attentionMask [B*S] of 0/1, or null for all ones
     */
    public BertModelOutput forward(int[] inputIds, int[] tokenTypeIds, int[] attentionMask, int batch, int seq,
                                   boolean outputHiddenStates, boolean outputAttentions) {
        checkSeq("forward", seq);
        int n = batch * seq;
        checkLength("input_ids", inputIds, n, batch, seq);
        if (tokenTypeIds != null) checkLength("token_type_ids", tokenTypeIds, n, batch, seq);
        if (attentionMask != null) checkLength("attention_mask", attentionMask, n, batch, seq);
        Placement pl = open("forward");
        Backend be = pl.backend();
        Arena arena = pl.takeInference();
        try {
            synchronized (lock(be)) {
                arena.begin();
                try {
                    return forward(be, inputIds, tokenTypeIds, attentionMask, batch, seq, outputHiddenStates, outputAttentions);
                } finally {
                    Arena.deactivate();
                }
            }
        } finally {
            pl.giveBack(arena, closed);
        }
    }

    /** A sequence longer than the position table, refused in library terms (what to truncate, and to what). */
    private void checkSeq(String method, int seq) {
        int max = config.maxPositionEmbeddings();
        if (seq > max) {
            throw new IllegalArgumentException("BertModel." + method + ": sequence length " + seq + " is longer than max_position_embeddings "
                    + max + "; truncate the input to at most " + max + " tokens (EncodeOptions.builder().truncation(LONGEST_FIRST).maxLength("
                    + max + "), as SentenceEmbedder, TextClassifier and FillMask do by default)");
        }
    }

    /** The CPU runs concurrent passes (one arena per thread); a GPU backend one pass at a time. */
    static Object lock(Backend be) {
        return be.device().kind() == Device.Kind.CPU ? new Object() : be;
    }

    private BertModelOutput forward(Backend be, int[] inputIds, int[] tokenTypeIds, int[] attentionMask, int batch, int seq,
                                    boolean outputHiddenStates, boolean outputAttentions) {
        // A right-padded batch runs on its real tokens only, unless per-layer outputs were asked for (they are padded tensors).
        int[] offsets = outputHiddenStates || outputAttentions ? null : BertPadding.offsets(attentionMask, batch, seq);
        if (offsets != null) return forwardUnpadded(be, inputIds, tokenTypeIds, batch, seq, offsets);
        int h = config.hiddenSize(), n = batch * seq;
        List<Tensor> hidden = outputHiddenStates ? new ArrayList<>() : null, attn = outputAttentions ? new ArrayList<>() : null;
        float[] result = new float[n * h], pooled = new float[batch * h];
        Buf resultBuf = be.resultBuffer(result), pooledBuf = be.resultBuffer(pooled);
        Buf x = encoder.layer.isEmpty() ? resultBuf : be.floats(n * h);
        embeddings.forward(be, inputIds, tokenTypeIds, batch, seq, x, null);
        if (hidden != null) hidden.add(new Tensor(be.download(x, new float[n * h]), batch, seq, h));
        if (!encoder.layer.isEmpty()) encoder.forward(be, x, attentionMask, batch, seq, resultBuf, null, hidden, attn);
        pooler.forward(be, resultBuf, batch, seq, pooledBuf);
        be.download(resultBuf, result);
        be.download(pooledBuf, pooled);
        return new BertModelOutput(new Tensor(result, batch, seq, h), new Tensor(pooled, batch, h),
                hidden == null ? List.of() : List.copyOf(hidden), attn == null ? List.of() : List.copyOf(attn));
    }

    /**
     * The padding-free pass ({@link BertPadding}): embeddings, every layer and attention on the T real
     * tokens; last_hidden_state is padded back (zeros at the padding, which HF fills with values no one
     * reads: the mask excludes them from every real token's attention and from pooling), and the pooler
     * reads each [CLS] row from it.
     */
    private BertModelOutput forwardUnpadded(Backend be, int[] inputIds, int[] tokenTypeIds, int batch, int seq, int[] offsets) {
        int h = config.hiddenSize(), n = batch * seq, rows = offsets[batch];
        float[] result = new float[n * h], pooled = new float[batch * h];
        Buf resultBuf = be.resultBuffer(result), pooledBuf = be.resultBuffer(pooled);
        Buf x = be.floats(rows * h), last = encoder.layer.isEmpty() ? x : be.floats(rows * h);
        embeddings.forwardUnpadded(be, inputIds, tokenTypeIds, batch, seq, offsets, x, null);
        if (!encoder.layer.isEmpty()) encoder.forwardUnpadded(be, x, batch, seq, offsets, last, null);
        BertPadding.pad(be, last, offsets, seq, h, resultBuf);
        pooler.forward(be, resultBuf, batch, seq, pooledBuf);
        be.download(resultBuf, result);
        be.download(pooledBuf, pooled);
        return new BertModelOutput(new Tensor(result, batch, seq, h), new Tensor(pooled, batch, h), List.of(), List.of());
    }

    /** A training forward pass: its outputs, and what backward needs. */
    public static final class TrainPass {
        final BertEmbeddings.Ctx embeddings;
        final List<BertLayer.Ctx> layers;
        final BertPooler.Ctx pooler;
        /** last_hidden_state, padded [B*S, H] (zeros at the padding when the pass ran packed) for the heads. */
        final Buf lastHidden;
        final Buf pooled;
        /** The packed rows' offsets when the encoder ran padding-free ({@link BertPadding}), else null. */
        final int[] offsets;
        final int batch;
        final int seq;
        final int hidden;
        final Arena arena;
        final Backend backend;
        private BertModelOutput output;

        TrainPass(BertEmbeddings.Ctx embeddings, List<BertLayer.Ctx> layers, BertPooler.Ctx pooler, Buf lastHidden, Buf pooled,
                  int[] offsets, int batch, int seq, int hidden, Arena arena, Backend backend) {
            this.embeddings = embeddings;
            this.layers = layers;
            this.pooler = pooler;
            this.lastHidden = lastHidden;
            this.pooled = pooled;
            this.offsets = offsets;
            this.batch = batch;
            this.seq = seq;
            this.hidden = hidden;
            this.arena = arena;
            this.backend = backend;
        }

        /** A buffer of {@code n} (undefined contents) that lives as long as this pass: a head's activations. */
        Buf floats(int n) {
            return arena.floats(n);
        }

        /** A zeroed buffer that lives as long as this pass (for a head's d loss / d hidden). */
        Buf zeros(int n) {
            Buf b = arena.floats(n);
            backend.zero(b, n);
            return b;
        }

        /** last_hidden_state and pooler_output of this pass (copied to the host on first call). */
        public BertModelOutput output() {
            if (output == null) {
                output = new BertModelOutput(new Tensor(backend.download(lastHidden, new float[batch * seq * hidden]), batch, seq, hidden),
                        new Tensor(backend.download(pooled, new float[batch * hidden]), batch, hidden), List.of(), List.of());
            }
            return output;
        }
    }

    /**
     * The forward pass in training mode: dropout per {@code mode}, and everything backward needs kept.
     * The pass's buffers are reused by the next {@code forwardTrain} on the same thread (so a training
     * loop allocates almost nothing): finish with a pass, backward included, before starting the next.
     */
    public TrainPass forwardTrain(Batch b, TrainMode mode) {
        checkSeq("forwardTrain", b.seqLen());
        Placement pl = open("forwardTrain");
        Arena arena = pl.train();
        arena.begin();
        try {
            return forwardTrain(pl.backend(), b, mode, arena);
        } finally {
            Arena.deactivate();
        }
    }

    /** A head's training step after the encoder's forward: its layers, loss and backward (which ends with {@link #backward}). */
    interface HeadStep<T> {
        T run(TrainPass pass);
    }

    /**
     * {@link #forwardTrain}, then {@code head} with the pass's arena active, so the head's activations
     * are recycled with the encoder's (on a GPU, a training loop then allocates nothing per step).
     */
    <T> T trainWithHead(Batch b, TrainMode mode, HeadStep<T> head) {
        if (b.labels() == null) throw new IllegalArgumentException("training needs labels");
        TrainPass pass = forwardTrain(b, mode);
        pass.arena.activate();
        try {
            return head.run(pass);
        } finally {
            Arena.deactivate();
        }
    }

    /**
     * A right-padded batch trains on its real tokens only, as inference does ({@link BertPadding}): the
     * padding's rows get no gradient in a padded pass either (no loss reads them, and the mask keeps them
     * out of every real token's attention), so only the work changes. The heads still see a padded
     * last_hidden_state. Dropout of the attention probabilities draws the padded pass's masks; dropout
     * on hidden states draws one per packed element (a different, equally distributed draw than the
     * padded pass's, the same on every backend).
     */
    private TrainPass forwardTrain(Backend be, Batch b, TrainMode mode, Arena arena) {
        int batch = b.batchSize(), seq = b.seqLen(), h = config.hiddenSize(), n = batch * seq;
        int[] offsets = BertPadding.enabled ? BertPadding.offsets(b.attentionMask(), batch, seq) : null;
        int rows = BertPadding.rows(offsets, batch, seq);
        Buf x = be.floats(rows * h), last = encoder.layer.isEmpty() ? x : be.floats(rows * h);
        BertEmbeddings.Ctx e;
        List<BertLayer.Ctx> ctxs;
        if (offsets == null) {
            e = embeddings.forward(be, b.inputIds(), b.tokenTypeIds(), batch, seq, x, mode);
            ctxs = encoder.layer.isEmpty() ? List.of() : encoder.forward(be, x, b.attentionMask(), batch, seq, last, mode, null, null);
        } else {
            e = embeddings.forwardUnpadded(be, b.inputIds(), b.tokenTypeIds(), batch, seq, offsets, x, mode);
            ctxs = encoder.layer.isEmpty() ? List.of() : encoder.forwardUnpadded(be, x, batch, seq, offsets, last, mode);
            Buf padded = be.floats(n * h);
            BertPadding.pad(be, last, offsets, seq, h, padded);
            last = padded;
        }
        Buf pooled = be.floats(batch * h);
        BertPooler.Ctx p = pooler.forward(be, last, batch, seq, pooled);
        return new TrainPass(e, ctxs, p, last, pooled, offsets, batch, seq, h, arena, be);
    }

    /**
     * Backward from d loss / d last_hidden_state and / or d loss / d pooler_output (either may be
     * null; both are consumed), accumulating every parameter's gradient into {@code g}. When the pass
     * ran padding-free, d loss / d last_hidden_state at the padding is ignored: those rows were never
     * computed (their outputs read as zeros), as no loss over real tokens reads them.
     */
    public void backward(TrainPass pass, Buf dLastHidden, Buf dPooled, Gradients g) {
        Backend be = pass.backend;
        pass.arena.activate();
        try {
            Buf d = dLastHidden != null ? dLastHidden : be.zeros(pass.batch * pass.seq * pass.hidden);
            if (dPooled != null) pooler.backward(be, pass.pooler, dPooled, d, g);
            if (pass.offsets != null) {
                Buf packed = be.floats(pass.offsets[pass.batch] * pass.hidden);
                BertPadding.unpad(be, d, pass.offsets, pass.seq, pass.hidden, packed);
                d = packed;
            }
            d = encoder.backward(be, pass.layers, d, g);
            embeddings.backward(be, pass.embeddings, d, g);
        } finally {
            Arena.deactivate();
        }
    }

    private static void checkLength(String what, int[] a, int n, int batch, int seq) {
        if (a.length != n) throw new IllegalArgumentException("BertModel.forward: " + what + " has " + a.length + " values; batch " + batch + " x seq " + seq + " needs " + n);
    }
}
