package dev.bertj.model;

import dev.bertj.cpu.Kernels;

/**
 * {@code encoder.layer.N}: self-attention with its output block, then the feed-forward block.
 * <pre>
 * a = LayerNorm(x + dense(SelfAttention(x)))            attention.self, attention.output
 * y = LayerNorm(a + dense(act(dense(a))))               intermediate, output
 * </pre>
 */
public final class BertLayer {
    final BertSelfAttention attentionSelf;
    final BertSelfOutput attentionOutput;
    final BertIntermediate intermediate;
    final BertOutput output;
    private final int hidden;
    private final int inter;

    BertLayer(BertConfig c, WeightSource w, int index) {
        String p = "encoder.layer." + index + ".";
        attentionSelf = new BertSelfAttention(c, w, p + "attention.self.");
        attentionOutput = new BertSelfOutput(c, w, p + "attention.output.");
        intermediate = new BertIntermediate(c, w, p + "intermediate.");
        output = new BertOutput(c, w, p + "output.");
        hidden = c.hiddenSize();
        inter = c.intermediateSize();
    }

    /** Maps {@code x} to {@code out} (distinct arrays of [rows, H]). */
    void forward(Kernels k, float[] x, int[] mask, int batch, int seq, float[] out, float[] probsOut) {
        int rows = batch * seq;
        float[] context = new float[rows * hidden];
        attentionSelf.forward(k, x, mask, batch, seq, context, probsOut);
        float[] attended = new float[rows * hidden];
        attentionOutput.forward(k, context, x, rows, attended);
        float[] mid = new float[rows * inter];
        intermediate.forward(k, attended, rows, mid);
        output.forward(k, mid, attended, rows, out);
    }
}
