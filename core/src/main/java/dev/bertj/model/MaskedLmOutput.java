package dev.bertj.model;

import dev.bertj.tensor.Tensor;

/**
 * HF's {@code MaskedLMOutput}, restricted to the positions asked about: the vocabulary logits at each
 * of them (never the whole [B, S, V]), and the mean cross-entropy over the labelled ones.
 *
 * @param positions flat positions {@code b * S + s} in the batch, in order
 * @param logits {@code [positions, V]}; null from a training step, which does not copy them back
 * @param loss mean cross-entropy over the positions with a label, or NaN without labels
 */
public record MaskedLmOutput(int[] positions, Tensor logits, float loss) {
}
