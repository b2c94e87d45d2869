package dev.bertj.model;

import dev.bertj.tensor.Tensor;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

import static dev.bertj.nn.FiniteDifferences.activation;
import static dev.bertj.nn.FiniteDifferences.crossEntropy;
import static dev.bertj.nn.FiniteDifferences.layerNorm;
import static dev.bertj.nn.FiniteDifferences.linear;

/**
 * BERT's forward in double precision, written from HF's modeling_bert, on a copy (as doubles) of
 * a bertj model's float weights: the function the finite differences differentiate. The copy's
 * arrays are what a gradient check perturbs, by the model's own parameter names.
 */
final class DoubleBert {
    /** Per-element dropout multipliers (keep / (1 - p), or 0) of a site, or null for no dropout there. */
    interface DropMasks {
        double[] at(int site, int n, float p);
    }

    final Map<String, double[]> params = new LinkedHashMap<>();
    private final String enc;
    private final int h, heads, inter;
    private final double eps;
    private final String act;
    private final float hiddenDrop, attnDrop;
    private DropMasks drop;

    /** @param enc the encoder's name prefix in {@code params} ("" or "bert.") */
    DoubleBert(BertConfig c, Map<String, Tensor> weights, String enc) {
        weights.forEach((k, v) -> params.put(k, dev.bertj.nn.FiniteDifferences.toDouble(v.data())));
        this.enc = enc;
        h = c.hiddenSize();
        heads = c.numAttentionHeads();
        inter = c.intermediateSize();
        eps = c.layerNormEps();
        act = c.hiddenAct();
        hiddenDrop = c.hiddenDropoutProb();
        attnDrop = c.attentionProbsDropoutProb();
    }

    /** Uses the masks {@code mode} draws (they depend only on seed, step, site and index), or none. */
    DoubleBert dropout(TrainMode mode) {
        if (mode == null || !mode.enabled()) {
            drop = null;
            return this;
        }
        Map<Integer, double[]> cache = new HashMap<>();
        drop = (site, n, p) -> cache.computeIfAbsent(site, s -> {
            float[] ones = new float[n];
            java.util.Arrays.fill(ones, 1f);
            return mode.drop(dev.bertj.cpu.CpuBackend.get(), new dev.bertj.cpu.HostBuf(ones), n, p, s) == null ? null : dev.bertj.nn.FiniteDifferences.toDouble(ones);
        });
        return this;
    }

    /**
     * The masks {@code mode} draws for a model trained on this right-padded batch: bertj trains it
     * padding-free ({@link BertPadding}), so a hidden-state site's mask is drawn over the packed real
     * rows; here it is laid out on the padded rows (padding rows kept: nothing reads them).
     */
    DoubleBert dropout(TrainMode mode, int[] mask, int batch, int seq) {
        dropout(mode);
        int[] offsets = BertPadding.offsets(mask, batch, seq);
        DropMasks padded = drop;
        if (padded == null || offsets == null) return this;
        hiddenRows = (site, n, p) -> {
            double[] packed = padded.at(site, offsets[batch] * h, p);
            if (packed == null) return null;
            double[] m = new double[n];
            java.util.Arrays.fill(m, 1);
            for (int b = 0; b < batch; b++) System.arraycopy(packed, offsets[b] * h, m, b * seq * h, (offsets[b + 1] - offsets[b]) * h);
            return m;
        };
        return this;
    }

    /** A hidden-state site's masks when the batch trains packed, else null (the padded draw). */
    private DropMasks hiddenRows;

    private double[] hiddenDropout(double[] x, int site, float prob) {
        if (hiddenRows == null || prob <= 0) return dropout(x, site, prob);
        double[] m = hiddenRows.at(site, x.length, prob);
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = x[i] * m[i];
        return y;
    }

    /** The multipliers of a site under the current masks (null without dropout). */
    double[] mask(int site, int n, float prob) {
        return drop == null ? null : drop.at(site, n, prob);
    }

    double[] p(String name) {
        double[] a = params.get(enc + name);
        if (a == null) throw new IllegalArgumentException("no parameter " + enc + name);
        return a;
    }

    private double[] dropout(double[] x, int site, float prob) {
        double[] m = drop == null || prob <= 0 ? null : drop.at(site, x.length, prob);
        if (m == null) return x;
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = x[i] * m[i];
        return y;
    }

    /** LayerNorm(word[id] + position[s] + type[t]), then dropout. */
    double[] embeddings(int[] ids, int[] types, int batch, int seq) {
        double[] word = p("embeddings.word_embeddings.weight"), pos = p("embeddings.position_embeddings.weight");
        double[] type = p("embeddings.token_type_embeddings.weight");
        double[] e = new double[batch * seq * h];
        for (int r = 0; r < batch * seq; r++) {
            int s = r % seq;
            for (int i = 0; i < h; i++) e[r * h + i] = word[ids[r] * h + i] + pos[s * h + i] + type[types[r] * h + i];
        }
        double[] y = layerNorm(e, null, batch * seq, p("embeddings.LayerNorm.weight"), p("embeddings.LayerNorm.bias"), eps);
        return hiddenDropout(y, TrainMode.EMBEDDINGS, hiddenDrop);
    }

    /** Multi-head attention: softmax(q k^T / sqrt(d) + (1 - mask) * float32.min), dropout, times v. */
    double[] selfAttention(int layer, double[] x, int[] mask, int batch, int seq) {
        String pre = "encoder.layer." + layer + ".attention.self.";
        int rows = batch * seq, d = h / heads;
        double[] q = linear(x, rows, p(pre + "query.weight"), p(pre + "query.bias"), h);
        double[] k = linear(x, rows, p(pre + "key.weight"), p(pre + "key.bias"), h);
        double[] v = linear(x, rows, p(pre + "value.weight"), p(pre + "value.bias"), h);
        double[] probs = new double[batch * heads * seq * seq];
        for (int b = 0; b < batch; b++) {
            for (int hd = 0; hd < heads; hd++) {
                for (int s = 0; s < seq; s++) {
                    int po = ((b * heads + hd) * seq + s) * seq;
                    double max = Double.NEGATIVE_INFINITY;
                    for (int t = 0; t < seq; t++) {
                        double sc = 0;
                        for (int j = 0; j < d; j++) sc += q[(b * seq + s) * h + hd * d + j] * k[(b * seq + t) * h + hd * d + j];
                        sc /= Math.sqrt(d);
                        if (mask[b * seq + t] == 0) sc += -Float.MAX_VALUE;
                        probs[po + t] = sc;
                        max = Math.max(max, sc);
                    }
                    double sum = 0;
                    for (int t = 0; t < seq; t++) sum += probs[po + t] = Math.exp(probs[po + t] - max);
                    for (int t = 0; t < seq; t++) probs[po + t] /= sum;
                }
            }
        }
        probs = dropout(probs, TrainMode.layerSite(layer, 0), attnDrop);
        double[] ctx = new double[rows * h];
        for (int b = 0; b < batch; b++) {
            for (int hd = 0; hd < heads; hd++) {
                for (int s = 0; s < seq; s++) {
                    for (int t = 0; t < seq; t++) {
                        double w = probs[((b * heads + hd) * seq + s) * seq + t];
                        for (int j = 0; j < d; j++) ctx[(b * seq + s) * h + hd * d + j] += w * v[(b * seq + t) * h + hd * d + j];
                    }
                }
            }
        }
        return ctx;
    }

    /** {@code LayerNorm(dropout(dense(x)) + input)}: attention.output (which = 1) and output (which = 2). */
    double[] denseNorm(int layer, int which, double[] x, double[] input, int rows) {
        String pre = "encoder.layer." + layer + (which == 1 ? ".attention.output." : ".output.");
        double[] y = hiddenDropout(linear(x, rows, p(pre + "dense.weight"), p(pre + "dense.bias"), h), TrainMode.layerSite(layer, which), hiddenDrop);
        return layerNorm(y, input, rows, p(pre + "LayerNorm.weight"), p(pre + "LayerNorm.bias"), eps);
    }

    /** {@code act(dense(x))}, H to intermediate_size. */
    double[] intermediate(int layer, double[] x, int rows) {
        String pre = "encoder.layer." + layer + ".intermediate.";
        return activation(act, linear(x, rows, p(pre + "dense.weight"), p(pre + "dense.bias"), inter));
    }

    double[] layer(int i, double[] x, int[] mask, int batch, int seq) {
        int rows = batch * seq;
        double[] attended = denseNorm(i, 1, selfAttention(i, x, mask, batch, seq), x, rows);
        return denseNorm(i, 2, intermediate(i, attended, rows), attended, rows);
    }

    /** {@code tanh(dense(hidden[:, 0]))}. */
    double[] pooler(double[] hidden, int batch, int seq) {
        double[] cls = cls(hidden, batch, seq);
        return activation("tanh", linear(cls, batch, p("pooler.dense.weight"), p("pooler.dense.bias"), h));
    }

    private double[] cls(double[] hidden, int batch, int seq) {
        double[] c = new double[batch * h];
        for (int b = 0; b < batch; b++) System.arraycopy(hidden, b * seq * h, c, b * h, h);
        return c;
    }

    /** last_hidden_state and pooler_output. */
    double[][] model(int[] ids, int[] types, int[] mask, int batch, int seq, int layers) {
        double[] x = embeddings(ids, types, batch, seq);
        for (int i = 0; i < layers; i++) x = layer(i, x, mask, batch, seq);
        return new double[][] {x, pooler(x, batch, seq)};
    }

    /** BertForSequenceClassification: logits = classifier(dropout(pooler_output)). */
    double[] seqClsLogits(int[] ids, int[] types, int[] mask, int batch, int seq, int layers, float classifierDrop) {
        double[] pooled = dropout(model(ids, types, mask, batch, seq, layers)[1], TrainMode.CLASSIFIER, classifierDrop);
        double[] w = params.get("classifier.weight");
        return linear(pooled, batch, w, params.get("classifier.bias"), params.get("classifier.bias").length);
    }

    /** BertClassifier: logits = head.3(dropout(relu(head.0(pool(hidden))))). */
    double[] classifierLogits(int[] ids, int[] types, int[] mask, int batch, int seq, int layers, BertClassifier.Pooling pooling, float ffDrop) {
        double[][] out = model(ids, types, mask, batch, seq, layers);
        double[] features = switch (pooling) {
            case POOLER -> out[1];
            case CLS_ONLY -> cls(out[0], batch, seq);
            case AVERAGE_ALL -> {
                double[] f = new double[batch * h];
                for (int b = 0; b < batch; b++) {
                    int count = 0;
                    for (int s = 0; s < seq; s++) {
                        if (mask[b * seq + s] == 0) continue;
                        count++;
                        for (int i = 0; i < h; i++) f[b * h + i] += out[0][(b * seq + s) * h + i];
                    }
                    for (int i = 0; i < h; i++) f[b * h + i] /= count;
                }
                yield f;
            }
        };
        double[] b0 = params.get("classification_head.0.bias"), b3 = params.get("classification_head.3.bias");
        double[] z = activation("relu", linear(features, batch, params.get("classification_head.0.weight"), b0, b0.length));
        return linear(dropout(z, TrainMode.CLASSIFIER, ffDrop), batch, params.get("classification_head.3.weight"), b3, b3.length);
    }

    /**
     * BertForMaskedLM's logits at {@code positions} (flat b * S + s): {@code LayerNorm(act(transform(h))) E^T + bias},
     * with E the (tied) word embeddings.
     */
    double[] maskedLmLogits(int[] ids, int[] types, int[] mask, int batch, int seq, int layers, int[] positions) {
        double[] last = model(ids, types, mask, batch, seq, layers)[0];
        double[] x = new double[positions.length * h];
        for (int i = 0; i < positions.length; i++) System.arraycopy(last, positions[i] * h, x, i * h, h);
        String pre = "cls.predictions.";
        double[] t = activation(act, linear(x, positions.length, params.get(pre + "transform.dense.weight"), params.get(pre + "transform.dense.bias"), h));
        t = layerNorm(t, null, positions.length, params.get(pre + "transform.LayerNorm.weight"), params.get(pre + "transform.LayerNorm.bias"), eps);
        double[] bias = params.get(pre + "bias");
        return linear(t, positions.length, p("embeddings.word_embeddings.weight"), bias, bias.length);
    }

    static double loss(double[] logits, int batch, int[] labels) {
        return crossEntropy(logits, batch, logits.length / batch, labels);
    }
}
