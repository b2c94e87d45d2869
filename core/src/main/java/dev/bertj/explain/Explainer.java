package dev.bertj.explain;

import dev.bertj.model.BertForMaskedLM;
import dev.bertj.model.BertModel;
import dev.bertj.model.BertModelOutput;
import dev.bertj.model.ClassifierOutput;
import dev.bertj.model.MaskedLmOutput;
import dev.bertj.model.SequenceClassifier;
import dev.bertj.model.TrainMode;
import dev.bertj.nn.Gradients;
import dev.bertj.tensor.Tensor;
import dev.bertj.tokenizer.Batch;
import dev.bertj.tokenizer.BertTokenizer;
import dev.bertj.tokenizer.Encoding;
import dev.bertj.train.Checkpoint;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What {@code ./bertj explain} shows about one input, computed with bertj's own forward and backward
 * passes and returned as JSON-ready values (the page's {@code bertj-data}):
 * <ul>
 *   <li>the tokens (ids, offsets, word ids, segments, attention mask);</li>
 *   <li>{@code attentions[layer][head][query][key]}: the model's attention probabilities, as
 *       {@link BertModel#forward} returns them with {@code outputAttentions} (HF's {@code output_attentions});</li>
 *   <li>{@code hidden_norms[layer][token]} and {@code hidden_cosine[layer][token]}: the L2 norm of each
 *       hidden state (row 0 is the embeddings' output) and its cosine similarity to the last layer's;</li>
 *   <li>for a masked-LM checkpoint, the top 5 tokens at each {@code [MASK]}, and the logit lens: the top 5
 *       when every layer's hidden state there goes through the MLM head;</li>
 *   <li>for a classifier, the label probabilities and the target label (the given one, else the predicted one);</li>
 *   <li>with either head, a gradient x input saliency per token, and the gradient norm of every
 *       parameter group, from one backward pass of the target's cross-entropy.</li>
 * </ul>
 *
 * <p><b>Saliency.</b> For token position {@code s} with input id {@code i}, the input is the word
 * embedding row {@code x_s = E[i]} and the saliency is {@code sum_h x_s[h] * d log p(target) / d x_s[h]}
 * (gradient x input of the log-probability, summed over the hidden dimension, as Captum's
 * {@code LayerGradientXActivation} on {@code embeddings.word_embeddings}). For a masked-LM model the
 * target is the top prediction at every mask and {@code log p} their mean. The gradient is taken
 * from the backward of the cross-entropy {@code -log p}: the embeddings add
 * {@code word[ids[s]] + position[s] + type[types[s]]}, so with one sequence the gradient of the
 * position table's row {@code s} is exactly {@code d loss / d x_s}, per position (the word table's
 * rows mix every position that shares an id).
 */
public final class Explainer {
    /** What the checkpoint can be asked, from its head. */
    public enum Kind {
        /** A classification head (HF's BertForSequenceClassification or the notebook's BertClassifier). */
        CLASSIFICATION,
        /** HF's BertForMaskedLM. */
        MASKED_LM,
        /** A bare encoder (BertModel): attention and hidden states only, no loss to differentiate. */
        ENCODER
    }

    /** The page format, written into the data as {@code format}. */
    public static final String FORMAT = "bertj-explain-1";
    /** Predictions shown per mask. */
    public static final int TOP_K = 5;

    private final Kind kind;
    private final BertModel bert;
    private final SequenceClassifier<?> classifier;
    private final BertForMaskedLM maskedLm;
    private final BertTokenizer tokenizer;
    private final String source;

    private Explainer(Kind kind, BertModel bert, SequenceClassifier<?> classifier, BertForMaskedLM maskedLm, BertTokenizer tokenizer, String source) {
        this.kind = kind;
        this.bert = bert;
        this.classifier = classifier;
        this.maskedLm = maskedLm;
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
        this.source = source;
    }

    /** Loads a model directory: its head (config.json's architectures) decides the {@link Kind}. */
    public static Explainer load(Path dir) throws IOException {
        BertTokenizer tok = BertTokenizer.fromPretrained(dir);
        String src = dir.toString();
        return switch (Checkpoint.headKind(dir)) {
            case SEQUENCE_CLASSIFICATION, CUSTOM -> of(Checkpoint.loadClassifierOfAnyKind(dir), tok, src);
            case MASKED_LM -> of(Checkpoint.loadMaskedLm(dir), tok, src);
            case NONE -> of(BertModel.fromPretrained(dir), tok, src);
        };
    }

    /** A classifier. */
    public static Explainer of(SequenceClassifier<?> model, BertTokenizer tokenizer, String source) {
        return new Explainer(Kind.CLASSIFICATION, model.bert(), model, null, tokenizer, source);
    }

    /** A masked-LM model. */
    public static Explainer of(BertForMaskedLM model, BertTokenizer tokenizer, String source) {
        return new Explainer(Kind.MASKED_LM, model.bert(), null, model, tokenizer, source);
    }

    /** A bare encoder. */
    public static Explainer of(BertModel model, BertTokenizer tokenizer, String source) {
        return new Explainer(Kind.ENCODER, model, null, null, tokenizer, source);
    }

    /** The kind of checkpoint. */
    public Kind kind() {
        return kind;
    }

    /** The tokenizer. */
    public BertTokenizer tokenizer() {
        return tokenizer;
    }

    /** The encoder. */
    public BertModel bert() {
        return bert;
    }

    /** The saliency and gradients of one backward pass. */
    public record Attribution(float[] saliency, double loss, Map<String, float[]> gradients) { }

    /**
     * Everything the page shows about {@code text} (and {@code pair}), encoded as {@code enc}.
     *
     * @param label for a classifier, the label to explain (a name from id2label or an id), or null for the predicted one
     * @throws IllegalArgumentException naming the field when the label is unknown or the model has no labels
     */
    public Map<String, Object> explain(String text, String pair, Encoding enc, Object label) {
        int s = enc.length();
        int[] ids = enc.ids(), types = enc.typeIds(), mask = enc.attentionMask();
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("format", FORMAT);
        d.put("model", source);
        d.put("kind", kind.name().toLowerCase(java.util.Locale.ROOT));
        d.put("text", text);
        d.put("text_pair", pair);
        d.put("tokens", Arrays.asList(enc.tokens()));
        d.put("input_ids", ids);
        d.put("token_type_ids", types);
        d.put("attention_mask", mask);
        List<Object> offsets = new ArrayList<>(), wordIds = new ArrayList<>();
        int[] st = enc.offsetStarts(), en = enc.offsetEnds(), w = enc.wordIds();
        for (int i = 0; i < s; i++) {
            offsets.add(new int[] {st[i], en[i]});
            wordIds.add(w[i] < 0 ? null : (Object) (long) w[i]);
        }
        d.put("offsets", offsets);
        d.put("word_ids", wordIds);
        d.put("special_tokens_mask", enc.specialTokensMask());

        BertModelOutput out = bert.forward(ids, types, mask, 1, s, true, true);
        d.put("num_layers", (long) out.attentions().size());
        d.put("num_heads", (long) bert.config().numAttentionHeads());
        d.put("attentions", attentions(out.attentions(), s));
        hiddenStates(out.hiddenStates(), s, d);

        Batch batch = new Batch(1, s, ids, types, mask, null);
        switch (kind) {
            case CLASSIFICATION -> classification(batch, label, d);
            case MASKED_LM -> {
                if (label != null) throw new IllegalArgumentException("field label: the model is a masked-LM model; labels are for classification checkpoints");
                maskedLm(batch, out.hiddenStates(), d);
            }
            case ENCODER -> {
                if (label != null) throw new IllegalArgumentException("field label: the model has no classification head (config.json architectures: "
                        + bert.config().architectures() + ")");
                d.put("gradients_note", "This checkpoint is a bare encoder: it has no head, hence no loss to differentiate. Saliency and gradient norms need a classification or masked-LM checkpoint.");
            }
        }
        return d;
    }

    /** [layer][head][query][key] from [1, heads, S, S] tensors; each row a float[] (written exactly). */
    static List<Object> attentions(List<Tensor> attn, int s) {
        List<Object> layers = new ArrayList<>();
        for (Tensor t : attn) {
            float[] a = t.data();
            int heads = t.dim(1);
            List<Object> hs = new ArrayList<>();
            for (int h = 0; h < heads; h++) {
                List<Object> rows = new ArrayList<>();
                for (int q = 0; q < s; q++) rows.add(Arrays.copyOfRange(a, (h * s + q) * s, (h * s + q + 1) * s));
                hs.add(rows);
            }
            layers.add(hs);
        }
        return layers;
    }

    /** hidden_norms and hidden_cosine: per hidden state (embeddings first), per token. */
    private static void hiddenStates(List<Tensor> hidden, int s, Map<String, Object> d) {
        float[] last = hidden.getLast().data();
        int h = hidden.getLast().dim(2);
        List<Object> norms = new ArrayList<>(), cosines = new ArrayList<>();
        for (Tensor t : hidden) {
            float[] x = t.data();
            float[] n = new float[s], c = new float[s];
            for (int i = 0; i < s; i++) {
                double xx = 0, ll = 0, xl = 0;
                for (int j = 0; j < h; j++) {
                    double a = x[i * h + j], b = last[i * h + j];
                    xx += a * a;
                    ll += b * b;
                    xl += a * b;
                }
                n[i] = (float) Math.sqrt(xx);
                c[i] = xx == 0 || ll == 0 ? 0f : (float) (xl / Math.sqrt(xx * ll));
            }
            norms.add(n);
            cosines.add(c);
        }
        d.put("hidden_norms", norms);
        d.put("hidden_cosine", cosines);
    }

    private void classification(Batch batch, Object label, Map<String, Object> d) {
        int n = classifier.numLabels();
        float[] probs = classifier.forward(batch).probabilities();
        int predicted = 0;
        for (int c = 1; c < n; c++) if (probs[c] > probs[predicted]) predicted = c;
        int target = label == null ? predicted : labelId(label);
        List<Object> rows = new ArrayList<>();
        for (int c = 0; c < n; c++) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("label", classifier.labelName(c));
            r.put("probability", probs[c]);
            rows.add(r);
        }
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("task", "classification");
        p.put("label", classifier.labelName(predicted));
        p.put("probabilities", rows);
        p.put("target", classifier.labelName(target));
        p.put("target_is", label == null ? "predicted" : "given");
        d.put("predictions", p);
        Attribution a = saliency(classifier, batch, target);
        putAttribution(a, "log p(" + classifier.labelName(target) + ")", d);
    }

    /** The class id of a label given by name (id2label) or as an id. */
    private int labelId(Object label) {
        int n = classifier.numLabels();
        List<String> names = new ArrayList<>();
        for (int c = 0; c < n; c++) names.add(classifier.labelName(c));
        if (label instanceof Number num && num.doubleValue() == Math.rint(num.doubleValue()) && num.longValue() >= 0 && num.longValue() < n) {
            return (int) num.longValue();
        }
        int i = names.indexOf(String.valueOf(label));
        if (i < 0) throw new IllegalArgumentException("field label: unknown label " + label + " (labels: " + names + ")");
        return i;
    }

    private void maskedLm(Batch batch, List<Tensor> hidden, Map<String, Object> d) {
        int s = batch.seqLen(), maskId = tokenizer.specialTokens().maskId();
        int[] ids = batch.inputIds(), mask = batch.attentionMask();
        int[] positions = java.util.stream.IntStream.range(0, s).filter(i -> mask[i] == 1 && ids[i] == maskId).toArray();
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("task", "masked_lm");
        List<Object> masks = new ArrayList<>();
        p.put("masks", masks);
        d.put("predictions", p);
        if (positions.length == 0) {
            d.put("gradients_note", "The input has no " + tokenizer.specialTokens().mask() + " token: nothing to predict, so no loss to differentiate.");
            return;
        }
        MaskedLmOutput o = maskedLm.logitsAt(batch, positions);
        float[] logits = o.logits().data();
        int v = maskedLm.vocabSize(), h = bert.config().hiddenSize();
        int[] labels = new int[s];
        Arrays.fill(labels, -100);
        // The logit lens: every hidden state (the embeddings' output first) at the masks, through the MLM head.
        List<float[]> lens = new ArrayList<>();
        for (Tensor t : hidden) {
            float[] rows = new float[positions.length * h];
            for (int m = 0; m < positions.length; m++) System.arraycopy(t.data(), positions[m] * h, rows, m * h, h);
            lens.add(maskedLm.headLogits(rows, positions.length).data());
        }
        for (int m = 0; m < positions.length; m++) {
            int[] top = topK(logits, m * v, v, TOP_K);
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("position", (long) positions[m]);
            entry.put("top", top(logits, m * v, v));
            List<Object> perLayer = new ArrayList<>();
            for (float[] l : lens) perLayer.add(top(l, m * v, v));
            entry.put("logit_lens", perLayer);
            masks.add(entry);
            labels[positions[m]] = top[0];
        }
        Gradients g = new Gradients(maskedLm.backend());
        float loss = maskedLm.trainStep(new Batch(1, s, ids, batch.tokenTypeIds(), mask, labels), TrainMode.noDropout(), g).loss();
        Attribution a = new Attribution(saliencyFrom(g.asMap(), batch), loss, g.asMap());
        putAttribution(a, "mean log p(top prediction) over the masks", d);
    }

    /** The top {@link #TOP_K} tokens of one row of logits, with their softmax probabilities. */
    private List<Object> top(float[] logits, int off, int v) {
        int[] top = topK(logits, off, v, TOP_K);
        double max = logits[off + top[0]], sum = 0;
        for (int i = 0; i < v; i++) sum += Math.exp(logits[off + i] - max);
        List<Object> preds = new ArrayList<>();
        for (int id : top) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("token", tokenizer.idToToken(id));
            r.put("id", (long) id);
            r.put("probability", Math.exp(logits[off + id] - max) / sum);
            preds.add(r);
        }
        return preds;
    }

    /** The ids of the {@code k} largest of {@code v} logits from {@code off}, best first (ties: lower id first). */
    private static int[] topK(float[] logits, int off, int v, int k) {
        int[] best = new int[Math.min(k, v)];
        Arrays.fill(best, -1);
        for (int i = 0; i < v; i++) {
            float x = logits[off + i];
            for (int j = 0; j < best.length; j++) {
                if (best[j] < 0 || x > logits[off + best[j]]) {
                    System.arraycopy(best, j, best, j + 1, best.length - j - 1);
                    best[j] = i;
                    break;
                }
            }
        }
        return best;
    }

    private void putAttribution(Attribution a, String objective, Map<String, Object> d) {
        d.put("saliency", a.saliency());
        d.put("saliency_target", objective);
        Map<String, Object> g = new LinkedHashMap<>();
        g.put("objective", "cross-entropy -" + objective);
        g.put("loss", a.loss());
        List<Object> groups = GradientGroups.of(a.gradients(), bert.config().numHiddenLayers());
        double total = 0;
        for (Object o : groups) {
            double n = (double) ((Map<?, ?>) o).get("norm");
            total += n * n;
        }
        g.put("total_norm", Math.sqrt(total));
        g.put("groups", groups);
        d.put("gradients", g);
    }

    /**
     * Gradient x input saliency of {@code target}'s log-probability per token of a one-sequence
     * batch, and every parameter's gradient of the cross-entropy, from one backward pass without
     * dropout (see the class comment).
     */
    public static Attribution saliency(SequenceClassifier<?> model, Batch batch, int target) {
        if (batch.batchSize() != 1) throw new IllegalArgumentException("saliency explains one sequence, got a batch of " + batch.batchSize());
        Gradients g = new Gradients(model.backend());
        Batch labelled = new Batch(1, batch.seqLen(), batch.inputIds(), batch.tokenTypeIds(), batch.attentionMask(), new int[] {target});
        ClassifierOutput o = model.trainStep(labelled, TrainMode.noDropout(), g);
        float[] words = model.bert().parameters().get("embeddings.word_embeddings.weight").data();
        return new Attribution(saliencyFrom(g.asMap(), batch, words, model.bert().config().hiddenSize()), o.loss(), g.asMap());
    }

    private float[] saliencyFrom(Map<String, float[]> grads, Batch batch) {
        return saliencyFrom(grads, batch, bert.parameters().get("embeddings.word_embeddings.weight").data(), bert.config().hiddenSize());
    }

    /** {@code -sum_h E[id_s][h] * dLoss/dposition[s][h]}: minus, because the loss is {@code -log p}. Padding gets 0. */
    private static float[] saliencyFrom(Map<String, float[]> grads, Batch batch, float[] words, int h) {
        float[] dPos = null;
        for (Map.Entry<String, float[]> e : grads.entrySet()) {
            if (e.getKey().endsWith("embeddings.position_embeddings.weight")) dPos = e.getValue();
        }
        if (dPos == null) throw new IllegalStateException("the backward pass did not reach the position embeddings");
        int s = batch.seqLen();
        int[] ids = batch.inputIds(), mask = batch.attentionMask();
        float[] out = new float[s];
        for (int i = 0; i < s; i++) {
            if (mask != null && mask[i] == 0) continue;
            double sum = 0;
            for (int j = 0; j < h; j++) sum += (double) words[ids[i] * h + j] * dPos[i * h + j];
            out[i] = (float) -sum;
        }
        return out;
    }
}
