package dev.bertj.model;

import dev.bertj.backend.Backend;
import dev.bertj.backend.Buf;
import dev.bertj.backend.Labels;
import dev.bertj.io.AtomicFiles;
import dev.bertj.nn.Gradients;
import dev.bertj.tensor.Tensor;
import dev.bertj.tokenizer.Batch;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * HF's {@code BertForMaskedLM}: BERT with its pre-training head {@code cls.predictions}
 * ({@link BertLMPredictionHead}), whose decoder is tied to the word embeddings.
 * <pre>
 * logits[p] = cls.predictions(last_hidden_state[p])       only at the positions asked about or labelled
 * loss = mean over positions with label != -100 of CE(logits[p], label[p])
 * </pre>
 * Labels are per token ({@code Batch.labels()} of length B x S, -100 where there is nothing to
 * predict), as DataCollatorForLanguageModeling makes them. The tied table's gradient gets both the
 * decoder's and the embeddings' contributions. Checkpoint names are HF's: {@code bert.*},
 * {@code cls.predictions.transform.*}, {@code cls.predictions.bias}.
 */
public final class BertForMaskedLM extends BertPreTrainedModel<BertForMaskedLM> {
    final BertLMPredictionHead predictions;

    private BertForMaskedLM(BertModel bert, BertLMPredictionHead predictions) {
        super(bert);
        this.predictions = predictions;
    }

    /** Loads {@code config.json} and {@code model.safetensors}; missing head weights are initialised (seeded) with HF's warning. */
    public static BertForMaskedLM fromPretrained(Path dir) throws IOException {
        BertConfig config = BertConfig.read(AtomicFiles.requireFile(dir.resolve("config.json"), "missing model file"));
        Path st = AtomicFiles.requireFile(dir.resolve("model.safetensors"), "missing model file");
        return build(config, BertModel.loadWeights(st, "bert."), st.toString(), 42);
    }

    /** Builds from weights by HF name ({@code bert.} stripped from the encoder's); missing ones are initialised from {@code seed}. */
    public static BertForMaskedLM of(BertConfig config, Map<String, Tensor> weights, long seed) {
        return build(config, weights, "the given weights", seed);
    }

    private static BertForMaskedLM build(BertConfig config, Map<String, Tensor> weights, String src, long seed) {
        BertModel bert = new BertModel(config, new WeightSource(weights, src, config.initializerRange(), seed));
        WeightSource head = new WeightSource(weights, src, config.initializerRange(), seed + 1);
        BertLMPredictionHead p = new BertLMPredictionHead(config, head, bert.embeddings.wordEmbeddings, "bert.embeddings.word_embeddings.weight");
        head.finish();
        return new BertForMaskedLM(bert, p);
    }

    /** Vocabulary size. */
    public int vocabSize() {
        return predictions.vocabSize();
    }

    /** Every weight by checkpoint name, as HF saves this model (the tied decoder weight is the word embeddings). */
    @Override
    public Map<String, Tensor> parameters() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        bert.parameters().forEach((k, v) -> m.put("bert." + k, v));
        String p = BertLMPredictionHead.PREFIX;
        m.put(p + "transform.dense.weight", predictions.transformDense.weight());
        m.put(p + "transform.dense.bias", predictions.transformDense.bias());
        m.put(p + "transform.LayerNorm.weight", predictions.transformLayerNorm.weight());
        m.put(p + "transform.LayerNorm.bias", predictions.transformLayerNorm.bias());
        m.put(p + "bias", predictions.decoder.bias());
        return m;
    }

    /** The flat positions {@code b * S + s} whose label is not -100, in order. */
    static int[] labelled(Batch batch) {
        int[] labels = tokenLabels(batch);
        return java.util.stream.IntStream.range(0, labels.length).filter(i -> labels[i] != Labels.IGNORE_INDEX).toArray();
    }

    private static int[] tokenLabels(Batch batch) {
        int[] labels = batch.labels();
        int n = batch.batchSize() * batch.seqLen();
        if (labels == null || labels.length != n) {
            throw new IllegalArgumentException("masked-LM labels are per token: " + n + " (batch " + batch.batchSize() + " x seq "
                    + batch.seqLen() + "), got " + (labels == null ? "none" : labels.length));
        }
        return labels;
    }

    /** Inference: the logits at the flat {@code positions} ({@code b * S + s}), and no loss. */
    public MaskedLmOutput logitsAt(Batch batch, int[] positions) {
        return run(batch, positions, null);
    }

    /**
     * The MLM head ({@code cls.predictions}) on hidden-state rows of the caller's choosing, {@code [rows, H]}
     * row-major: the logit lens reads the intermediate layers' states through it. Returns {@code [rows, V]}.
     */
    public Tensor headLogits(float[] hidden, int rows) {
        int h = bert.config().hiddenSize(), v = vocabSize();
        if (hidden.length != rows * h) throw new IllegalArgumentException("headLogits: " + hidden.length + " values are not " + rows + " rows of " + h);
        float[] logits = new float[rows * v];
        bert.headInference(logits, (be, host) -> {
            Buf l = be.resultBuffer(host);
            predictions.forward(be, be.upload(hidden), rows, l, false);
            be.download(l, host);
            return Float.NaN;
        });
        return new Tensor(logits, rows, v);
    }

    /** Inference with per-token labels: logits at the labelled positions and their mean cross-entropy. */
    public MaskedLmOutput forward(Batch batch) {
        return run(batch, labelled(batch), tokenLabels(batch));
    }

    private MaskedLmOutput run(Batch batch, int[] positions, int[] labels) {
        int n = batch.batchSize() * batch.seqLen(), h = bert.config().hiddenSize(), v = vocabSize(), m = positions.length;
        for (int p : positions) if (p < 0 || p >= n) throw new IllegalArgumentException("position " + p + " is outside the batch's " + n + " tokens");
        float[] hidden = bert.forward(batch).lastHiddenState().data();
        float[] rows = new float[m * h];
        for (int i = 0; i < m; i++) System.arraycopy(hidden, positions[i] * h, rows, i * h, h);
        int[] compact = labels == null ? null : Arrays.stream(positions).map(p -> labels[p]).toArray();
        float[] logits = new float[m * v];
        float loss = bert.headInference(logits, (be, host) -> {
            Buf l = be.resultBuffer(host);
            predictions.forward(be, be.upload(rows), m, l, false);
            float lossValue = compact == null ? Float.NaN : be.crossEntropy(l, m, v, compact, null);
            be.download(l, host);
            return lossValue;
        });
        return new MaskedLmOutput(positions, new Tensor(logits, m, v), loss);
    }

    /**
     * One training forward and backward on per-token labels: the head runs on the labelled positions
     * only; gradients (checkpoint names) accumulate into {@code g}.
     * <pre>
     * x = gather(last_hidden_state, labelled);  logits = cls.predictions(x);  loss = CE(logits, labels)
     * dx = cls.predictions'(CE');  dlast_hidden_state = scatter(dx)  (0 elsewhere);  then BertModel backward
     * </pre>
     * The output's logits are null: training does not copy the [M, V] logits back.
     */
    public MaskedLmOutput trainStep(Batch batch, TrainMode mode, Gradients g) {
        int[] labels = tokenLabels(batch), positions = labelled(batch);
        int[] compact = Arrays.stream(positions).map(p -> labels[p]).toArray();
        return bert.trainWithHead(batch, mode, pass -> {
            Backend be = pass.backend;
            int h = bert.config().hiddenSize(), v = vocabSize(), m = positions.length, n = batch.batchSize() * batch.seqLen();
            Buf x = pass.floats(m * h);
            be.gatherRows(pass.lastHidden, positions, h, x);
            Buf logits = pass.floats(m * v), dLogits = pass.floats(m * v);
            BertLMPredictionHead.Ctx c = predictions.forward(be, x, m, logits, true);
            float loss = be.crossEntropy(logits, m, v, compact, dLogits);
            Buf dx = pass.floats(m * h), dHidden = pass.zeros(n * h);
            predictions.backward(be, c, dLogits, dx, g);
            be.scatterAddRows(dx, positions, h, dHidden);
            bert.backward(pass, dHidden, null, g.view("bert."));
            return new MaskedLmOutput(positions, null, loss);
        });
    }
}
