package dev.bertj.model;

import dev.bertj.tensor.Tensor;

import java.util.List;

/**
 * What {@link BertModel#forward} returns, named as HF's {@code BaseModelOutputWithPooling}.
 *
 * @param lastHiddenState [B, S, H]
 * @param poolerOutput [B, H]
 * @param hiddenStates when requested: the embeddings output and each layer's output, each [B, S, H]; else empty
 * @param attentions when requested: each layer's attention probabilities [B, heads, S, S]; else empty
 */
public record BertModelOutput(Tensor lastHiddenState, Tensor poolerOutput, List<Tensor> hiddenStates, List<Tensor> attentions) {
}
