package dev.bertj.model;

import dev.bertj.cpu.Kernels;
import dev.bertj.cpu.Vectorization;
import dev.bertj.nn.CrossEntropy;
import dev.bertj.nn.Linear;
import dev.bertj.tensor.Tensor;
import dev.bertj.tokenizer.Batch;

import java.util.Map;

/**
 * The notebook's custom classification head on BERT ({@code "architectures": ["BertClassifier"]}):
 * <pre>
 * features = cls_only:    last_hidden_state[:, 0]
 *            average_all: mean of last_hidden_state over real tokens (attention_mask = 1)
 *            pooler:      pooler_output
 * logits = classification_head.3( dropout( relu( classification_head.0(features) ) ) )
 * </pre>
 * Exactly one pooling flag must be set. Note: the notebook's average_all takes a plain mean over
 * all positions, padding included, so a sentence's features there depend on its batch-mates;
 * bertj averages real tokens only, so they do not.
 */
public final class BertClassifier {
    /** How features are pooled from the encoder. */
    public enum Pooling { CLS_ONLY, AVERAGE_ALL, POOLER }

    final BertModel bert;
    final Linear head0;
    final Linear head3;
    private final Pooling pooling;

    BertClassifier(BertModel bert, Linear head0, Linear head3, Pooling pooling) {
        this.bert = bert;
        this.head0 = head0;
        this.head3 = head3;
        this.pooling = pooling;
    }

    /** Reads the pooling from the notebook's CustomConfig flags; anything but exactly one set is an error. */
    public static Pooling pooling(BertConfig config) {
        Map<String, Object> m = config.toMap();
        boolean cls = Boolean.TRUE.equals(m.get("cls_only")), avg = Boolean.TRUE.equals(m.get("average_all"));
        boolean pool = Boolean.TRUE.equals(m.get("pooler"));
        int set = (cls ? 1 : 0) + (avg ? 1 : 0) + (pool ? 1 : 0);
        if (set != 1) {
            throw new IllegalArgumentException("the custom head needs exactly one of cls_only, average_all, pooler set to true; config has cls_only="
                    + m.get("cls_only") + ", average_all=" + m.get("average_all") + ", pooler=" + m.get("pooler"));
        }
        return cls ? Pooling.CLS_ONLY : avg ? Pooling.AVERAGE_ALL : Pooling.POOLER;
    }

    /**
     * Builds the head from the config's ff_output_dim and n_classes; weights named
     * {@code classification_head.{0,3}.{weight,bias}} come from {@code weights}, missing ones are
     * initialised from {@code seed} (with a warning).
     */
    public static BertClassifier of(BertModel bert, Map<String, Tensor> weights, long seed) {
        BertConfig c = bert.config();
        Pooling p = pooling(c);
        int ff = intKey(c, "ff_output_dim"), n = intKey(c, "n_classes");
        WeightSource w = new WeightSource(weights, "the custom head weights", c.initializerRange(), seed);
        Linear h0 = new Linear(w.get("classification_head.0.weight", WeightSource.Init.NORMAL, ff, c.hiddenSize()),
                w.get("classification_head.0.bias", WeightSource.Init.ZEROS, ff));
        Linear h3 = new Linear(w.get("classification_head.3.weight", WeightSource.Init.NORMAL, n, ff),
                w.get("classification_head.3.bias", WeightSource.Init.ZEROS, n));
        w.finish();
        return new BertClassifier(bert, h0, h3, p);
    }

    private static int intKey(BertConfig c, String key) {
        Object v = c.toMap().get(key);
        if (!(v instanceof Number num) || num.longValue() <= 0) {
            throw new IllegalArgumentException("config.json needs a positive integer " + key + " for the custom head, got " + v);
        }
        return num.intValue();
    }

    /** The pooling in use. */
    public Pooling pooling() {
        return pooling;
    }

    /** Logits, and the loss when {@code batch} has labels. Inference mode (no dropout). */
    public ClassifierOutput forward(Batch batch) {
        Kernels k = Vectorization.kernels();
        BertModelOutput out = bert.forward(batch);
        int b = batch.batchSize(), s = batch.seqLen(), h = bert.config().hiddenSize();
        float[] features = switch (pooling) {
            case POOLER -> out.poolerOutput().data();
            case CLS_ONLY -> SentenceEmbeddings.cls(out.lastHiddenState().data(), b, s, h);
            case AVERAGE_ALL -> SentenceEmbeddings.mean(out.lastHiddenState().data(), batch.attentionMask(), b, s, h);
        };
        float[] mid = new float[b * head0.out()];
        head0.forward(k, features, b, mid);
        for (int i = 0; i < mid.length; i++) mid[i] = Math.max(0f, mid[i]);
        float[] logits = new float[b * head3.out()];
        head3.forward(k, mid, b, logits);
        float loss = batch.labels() == null ? Float.NaN : CrossEntropy.forward(logits, b, head3.out(), batch.labels());
        return new ClassifierOutput(new Tensor(logits, b, head3.out()), loss);
    }
}
