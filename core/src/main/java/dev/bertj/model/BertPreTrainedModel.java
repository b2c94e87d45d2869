package dev.bertj.model;

import dev.bertj.backend.Backend;
import dev.bertj.backend.Device;
import dev.bertj.tensor.Tensor;

import java.util.Map;

/**
 * What every task model on BERT shares, as HF's {@code BertPreTrainedModel}: the encoder, moving to a
 * device, and the checkpoint names of its weights.
 *
 * @param <M> the model's own type, so {@link #to} returns it
 */
public abstract sealed class BertPreTrainedModel<M extends BertPreTrainedModel<M>> implements AutoCloseable
        permits SequenceClassifier, BertForMaskedLM {
    final BertModel bert;

    BertPreTrainedModel(BertModel bert) {
        this.bert = bert;
    }

    /** The encoder. */
    public BertModel bert() {
        return bert;
    }

    /** The configuration (the encoder's, with the head's fields). */
    public BertConfig config() {
        return bert.config();
    }

    /** Every weight by checkpoint name, as this model is saved. */
    public abstract Map<String, Tensor> parameters();

    /** Moves the model to {@code device} (see {@link BertModel#to(Device)}) and returns it. */
    @SuppressWarnings("unchecked")
    public M to(Device device) {
        bert.to(device);
        return (M) this;
    }

    /** Moves the model onto this backend instance (see {@link BertModel#to(Backend)}) and returns it. */
    @SuppressWarnings("unchecked")
    public M to(Backend backend) {
        bert.to(backend);
        return (M) this;
    }

    /** The backend the model runs on (gradients and the optimizer live there too). */
    public Backend backend() {
        return bert.backend();
    }

    /** Releases the backend's copies of the head's weights, then closes the encoder ({@link BertModel#close()}). */
    @Override
    public void close() {
        if (bert.isClosed()) return;
        bert.backend().forget(parameters().values());
        bert.close();
    }
}
