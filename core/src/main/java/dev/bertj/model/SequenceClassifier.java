package dev.bertj.model;

import dev.bertj.backend.Backend;
import dev.bertj.backend.Buf;
import dev.bertj.nn.Gradients;
import dev.bertj.tensor.Tensor;
import dev.bertj.tokenizer.Batch;

/**
 * A classification head on BERT: {@link BertForSequenceClassification} (HF's) or {@link BertClassifier}
 * (the notebook's). They differ only in the head's layers ({@link #logits}, {@link #headStep}); the
 * inference and training plumbing around them is here, once.
 *
 * @param <M> the model's own type
 */
public abstract sealed class SequenceClassifier<M extends SequenceClassifier<M>> extends BertPreTrainedModel<M>
        permits BertForSequenceClassification, BertClassifier {

    SequenceClassifier(BertModel bert) {
        super(bert);
    }

    /** Number of classes. */
    public abstract int numLabels();

    /** The name of class {@code id} from id2label, else {@code LABEL_id} as HF names them. */
    public String labelName(int id) {
        return bert.config.id2label().getOrDefault(id, "LABEL_" + id);
    }

    /** Logits, and the loss when {@code batch} has labels. Inference mode (no dropout). */
    public ClassifierOutput forward(Batch batch) {
        BertModelOutput out = bert.forward(batch);
        int b = batch.batchSize(), n = numLabels();
        float[] logits = new float[b * n];
        float loss = bert.headInference(logits, (be, host) -> {
            Buf l = be.resultBuffer(host);
            logits(be, out, batch, l);
            float lossValue = batch.labels() == null ? Float.NaN : be.crossEntropy(l, b, n, batch.labels(), null);
            be.download(l, host);
            return lossValue;
        });
        return new ClassifierOutput(new Tensor(logits, b, n), loss);
    }

    /**
     * One training forward and backward: logits and mean loss, with every parameter's gradient (by
     * checkpoint name) accumulated into {@code g}. Dropout per {@code mode}.
     */
    public ClassifierOutput trainStep(Batch batch, TrainMode mode, Gradients g) {
        return bert.trainWithHead(batch, mode, pass -> headStep(pass, batch, mode, g));
    }

    /**
     * The head at inference: {@code logits} ([B, classes]) from the encoder's outputs (uploading what it
     * uses), on the backend's inference arena.
     */
    abstract void logits(Backend be, BertModelOutput out, Batch batch, Buf logits);

    /** The head's training forward, loss and backward after the encoder's pass; ends with {@link BertModel#backward}. */
    abstract ClassifierOutput headStep(BertModel.TrainPass pass, Batch batch, TrainMode mode, Gradients g);
}
