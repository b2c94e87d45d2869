package dev.bertj.model;

import dev.bertj.backend.Arena;
import dev.bertj.backend.Backend;
import dev.bertj.backend.Buf;
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

    /** Inference: maps {@code x} to {@code out} (distinct buffers of [rows, H]), scratch from the backend's arena. */
    void forward(Backend be, Buf x, int[] mask, int batch, int seq, Buf out, Buf probsOut) {
        int rows = batch * seq;
        Buf qkv = be.floats(rows * 3 * hidden), context = be.floats(rows * hidden);
        attentionSelf.forward(be, x, mask, batch, seq, qkv, context, probsOut);
        Buf attended = be.floats(rows * hidden);
        attentionOutput.forward(be, context, x, rows, attended);
        Buf mid = be.floats(rows * inter);
        intermediate.forward(be, attended, rows, mid);
        output.forward(be, mid, attended, rows, out);
    }

    Ctx forwardTrain(Backend be, Buf x, int[] mask, int batch, int seq, Buf out, TrainMode mode) {
        int rows = batch * seq;
        Buf context = be.floats(rows * hidden);
        BertSelfAttention.Ctx self = attentionSelf.forwardTrain(be, x, mask, batch, seq, context, mode, TrainMode.layerSite(index, 0));
        Buf attended = be.floats(rows * hidden);
        BertSelfOutput.Ctx ao = attentionOutput.forwardTrain(be, context, x, rows, attended, mode, TrainMode.layerSite(index, 1));
        Buf mid = be.floats(rows * inter);
        BertIntermediate.Ctx mc = intermediate.forwardTrain(be, attended, rows, mid);
        BertSelfOutput.Ctx oc = output.forwardTrain(be, mid, attended, rows, out, mode, TrainMode.layerSite(index, 2));
        return new Ctx(self, ao, mc, oc, rows);
    }

    /** Backward: {@code dOut} is consumed; returns d loss / d x. */
    Buf backward(Backend be, Ctx c, Buf dOut, Gradients g) {
        int rows = c.rows, n = rows * hidden, mark = Arena.mark();
        Buf dAttended = be.floats(n), dMid = be.floats(rows * inter);
        output.backward(be, c.out, dOut, dAttended, dMid, g);
        Buf dAttendedFromMid = be.floats(n);
        intermediate.backward(be, c.mid, dMid, dAttendedFromMid, g);
        be.add(dAttended, dAttendedFromMid, n);
        Buf dx = be.floats(n), dContext = be.floats(n);
        attentionOutput.backward(be, c.attnOut, dAttended, dx, dContext, g);
        Buf dxFromAttention = be.floats(n);
        attentionSelf.backward(be, c.self, dContext, dxFromAttention, g);
        be.add(dx, dxFromAttention, n);
        Arena.release(mark, dx);
        return dx;
    }
}
