package dev.bertj.model;

import dev.bertj.cpu.Kernels;
import dev.bertj.nn.Gradients;

/**
 * {@code encoder.layer.N}: self-attention with its output block, then the feed-forward block.
 * <pre>
 * a = LayerNorm(x + dropout(dense(SelfAttention(x))))         attention.self, attention.output
 * y = LayerNorm(a + dropout(dense(act(dense(a)))))            intermediate, output
 * backward runs the same blocks in reverse; each residual adds its gradient to the block's input.
 * </pre>
 */
public final class BertLayer {
    final BertSelfAttention attentionSelf;
    final BertSelfOutput attentionOutput;
    final BertIntermediate intermediate;
    final BertOutput output;
    private final int index;
    private final int hidden;
    private final int inter;

    /** What backward needs, per block. */
    record Ctx(BertSelfAttention.Ctx self, BertSelfOutput.Ctx attnOut, BertIntermediate.Ctx mid, BertSelfOutput.Ctx out, int rows) { }

    BertLayer(BertConfig c, WeightSource w, int index) {
        String p = "encoder.layer." + index + ".";
        this.index = index;
        attentionSelf = new BertSelfAttention(c, w, p + "attention.self.");
        attentionOutput = new BertSelfOutput(c, w, p + "attention.output.");
        intermediate = new BertIntermediate(c, w, p + "intermediate.");
        output = new BertOutput(c, w, p + "output.");
        hidden = c.hiddenSize();
        inter = c.intermediateSize();
    }

    /** Inference: maps {@code x} to {@code out} (distinct arrays of [rows, H]) using the workspace's buffers. */
    void forward(Kernels k, float[] x, float[] maskAdd, int batch, int seq, float[] out, float[] probsOut, Workspace w) {
        int rows = batch * seq;
        attentionSelf.forward(k, x, maskAdd, batch, seq, w.qkv, w.context, probsOut);
        attentionOutput.forward(k, w.context, x, rows, w.attended);
        intermediate.forward(k, w.attended, rows, w.mid);
        output.forward(k, w.mid, w.attended, rows, out);
    }

    Ctx forwardTrain(Kernels k, float[] x, int[] mask, int batch, int seq, float[] out, TrainMode mode) {
        int rows = batch * seq;
        float[] context = Arena.floats(rows * hidden);
        BertSelfAttention.Ctx self = attentionSelf.forwardTrain(k, x, mask, batch, seq, context, mode, TrainMode.layerSite(index, 0));
        float[] attended = Arena.floats(rows * hidden);
        BertSelfOutput.Ctx ao = attentionOutput.forwardTrain(k, context, x, rows, attended, mode, TrainMode.layerSite(index, 1));
        float[] mid = Arena.floats(rows * inter);
        BertIntermediate.Ctx mc = intermediate.forwardTrain(k, attended, rows, mid);
        BertSelfOutput.Ctx oc = output.forwardTrain(k, mid, attended, rows, out, mode, TrainMode.layerSite(index, 2));
        return new Ctx(self, ao, mc, oc, rows);
    }

    /** Backward: {@code dOut} is consumed; returns d loss / d x. */
    float[] backward(Kernels k, Ctx c, float[] dOut, Gradients g) {
        int rows = c.rows, mark = Arena.mark();
        float[] dAttended = Arena.floats(rows * hidden), dMid = Arena.floats(rows * inter);
        output.backward(k, c.out, dOut, dAttended, dMid, g);
        float[] dAttendedFromMid = Arena.floats(rows * hidden);
        intermediate.backward(k, c.mid, dMid, dAttendedFromMid, g);
        for (int i = 0; i < dAttended.length; i++) dAttended[i] += dAttendedFromMid[i];
        float[] dx = Arena.floats(rows * hidden), dContext = Arena.floats(rows * hidden);
        attentionOutput.backward(k, c.attnOut, dAttended, dx, dContext, g);
        float[] dxFromAttention = Arena.floats(rows * hidden);
        attentionSelf.backward(k, c.self, dContext, dxFromAttention, g);
        for (int i = 0; i < dx.length; i++) dx[i] += dxFromAttention[i];
        Arena.release(mark, dx);
        return dx;
    }
}
