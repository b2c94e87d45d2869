package dev.bertj.api;

/**
 * One candidate for a {@code [MASK]}, as Hugging Face's fill-mask pipeline reports it.
 *
 * @param score the probability (softmax over the vocabulary at the mask)
 * @param token the token id
 * @param tokenStr the token as text
 * @param sequence the text with this token in place of the mask (decoded; with several masks, as in
 *                 HF, special tokens are kept so the other masks stay visible)
 */
public record FillMaskPrediction(double score, int token, String tokenStr, String sequence) { }
