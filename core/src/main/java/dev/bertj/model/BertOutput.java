package dev.bertj.model;

/**
 * {@code output}: {@code LayerNorm(dropout(dense(intermediate)) + attention_output)},
 * intermediate_size → H: the block of {@link BertSelfOutput} with a wider input, as in HF.
 */
public final class BertOutput extends BertSelfOutput {
    BertOutput(BertConfig c, WeightSource w, String prefix, int site) {
        super(c, w, prefix, c.intermediateSize(), site);
    }
}
