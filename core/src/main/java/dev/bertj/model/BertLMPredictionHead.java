package dev.bertj.model;

import dev.bertj.backend.Activation;
import dev.bertj.backend.Backend;
import dev.bertj.backend.Buf;
import dev.bertj.nn.Gradients;
import dev.bertj.nn.LayerNorm;
import dev.bertj.nn.Linear;
import dev.bertj.tensor.Tensor;

/**
 * {@code cls.predictions}, HF's BertLMPredictionHead (inside BertOnlyMLMHead): a transform, then a
 * decoder tied to the word embeddings with its own bias.
 * <pre>
 * t = LayerNorm(act(transform.dense(h)))                       cls.predictions.transform.{dense, LayerNorm}
 * logits = t E^T + bias                                         E = bert.embeddings.word_embeddings.weight [V, H]
 *
 * backward: dt = dlogits E;  dE += dlogits^T t;  dbias += 1^T dlogits
 *           dh = transform.dense'(act'(LayerNorm'(dt)))
 * </pre>
 * It runs on the masked positions only ({@code rows} of them), never on all B x S: the [B, S, V]
 * logits of a batch would be hundreds of megabytes.
 */
final class BertLMPredictionHead {
    static final String PREFIX = "cls.predictions.";
    final Linear transformDense;
    final LayerNorm transformLayerNorm;
    /** The tied decoder: the word-embedding table as weight, {@code cls.predictions.bias} as bias. */
    final Linear decoder;
    private final Activation act;
    private final String wordEmbeddingsGradient;

    /** What backward needs. */
    record Ctx(Buf hidden, Buf saved, Buf transformed, Buf xhat, Buf rstd, int rows) { }

    /**
     * @param wordEmbeddings the encoder's {@code embeddings.word_embeddings.weight} (tied)
     * @param wordEmbeddingsGradient the gradient name the tied weight accumulates into (the encoder's)
     */
    BertLMPredictionHead(BertConfig c, WeightSource w, Tensor wordEmbeddings, String wordEmbeddingsGradient) {
        int h = c.hiddenSize();
        transformDense = new Linear(w.get(PREFIX + "transform.dense.weight", WeightSource.Init.NORMAL, h, h),
                w.get(PREFIX + "transform.dense.bias", WeightSource.Init.ZEROS, h));
        transformLayerNorm = new LayerNorm(w.get(PREFIX + "transform.LayerNorm.weight", WeightSource.Init.ONES, h),
                w.get(PREFIX + "transform.LayerNorm.bias", WeightSource.Init.ZEROS, h), c.layerNormEps());
        decoder = new Linear(wordEmbeddings, w.get(PREFIX + "bias", WeightSource.Init.ZEROS, c.vocabSize()));
        act = c.activation();
        this.wordEmbeddingsGradient = wordEmbeddingsGradient;
    }

    /** Vocabulary size V. */
    int vocabSize() {
        return decoder.out();
    }

    /** {@code logits} ([rows, V]) from {@code hidden} ([rows, H]); {@code train} false keeps no context. */
    Ctx forward(Backend be, Buf hidden, int rows, Buf logits, boolean train) {
        int h = transformDense.out(), n = rows * h;
        Buf t = be.floats(n);
        Buf saved = null, xhat = null, rstd = null;
        if (!train) {
            be.linear(hidden, rows, transformDense, t, act);
        } else {
            be.linear(hidden, rows, transformDense, t, null);
            saved = be.floats(n);
            if (act.derivativeFrom() == Activation.Saved.INPUT) be.copy(t, saved, n);
            be.activation(act, t, n);
            if (act.derivativeFrom() == Activation.Saved.OUTPUT) be.copy(t, saved, n);
            xhat = be.floats(n);
            rstd = be.floats(rows);
        }
        be.layerNorm(t, null, rows, transformLayerNorm, t, xhat, rstd);
        be.linear(t, rows, decoder, logits, null);
        return train ? new Ctx(hidden, saved, t, xhat, rstd, rows) : null;
    }

    /** Backward: {@code dLogits} is read; {@code dHidden} ([rows, H]) is overwritten; the tied table's gradient accumulates. */
    void backward(Backend be, Ctx c, Buf dLogits, Buf dHidden, Gradients g) {
        int h = transformDense.out(), v = decoder.out(), n = c.rows * h;
        Buf dt = be.floats(n);
        be.linearBackward(decoder, c.transformed, dLogits, 0, v, c.rows, dt, false,
                g.of(wordEmbeddingsGradient, decoder.weight()), g.of(PREFIX + "bias", decoder.bias()));
        be.layerNormBackward(transformLayerNorm, c.xhat, c.rstd, dt, c.rows, dt, g.of(PREFIX + "transform.LayerNorm.weight", transformLayerNorm.weight()),
                g.of(PREFIX + "transform.LayerNorm.bias", transformLayerNorm.bias()));
        be.activationBackward(act, c.saved, dt, n);
        transformDense.backward(be, PREFIX + "transform.dense", c.hidden, dt, 0, h, c.rows, dHidden, false, g);
    }
}
