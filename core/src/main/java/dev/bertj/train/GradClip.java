package dev.bertj.train;

import dev.bertj.backend.Backend;
import dev.bertj.backend.Backends;
import dev.bertj.backend.Buf;
import dev.bertj.nn.Gradients;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Gradient clipping as {@code torch.nn.utils.clip_grad_norm_} (the L2 norm, its default). */
public final class GradClip {
    private GradClip() {}

    /**
     * Scales all gradients together so their global L2 norm is at most {@code maxNorm}, in place.
     *
     * <pre>
     *   total = ‖(‖g₁‖, ‖g₂‖, …)‖₂                  = the L2 norm of all gradients concatenated
     *   coef  = min(1, maxNorm / (total + 1e-6))    in float32, as PyTorch
     *   gᵢ   ← gᵢ · coef
     * </pre>
     *
     * <p>Like PyTorch with {@code error_if_nonfinite=False}, a NaN or infinite norm is not an
     * error: the gradients are still multiplied (by NaN or 0) and the norm returned, so the caller
     * can skip the step or stop. PyTorch accumulates squares in float32; here they are summed in
     * double and each norm rounded to float as PyTorch's is, so the result agrees to about an ulp
     * (and stays finite where a float sum of squares would overflow to infinity).
     *
     * @param grads name → gradient; null values are skipped, as PyTorch skips {@code p.grad is None}
     * @param maxNorm the largest norm allowed (HF's {@code max_grad_norm}; HF skips clipping when it
     *     is 0, which is the caller's decision: here 0 zeroes the gradients, as in PyTorch)
     * @return the total norm before clipping, a float32 value; 0 when there are no gradients
     */
    public static double clipGlobalNorm(Map<String, float[]> grads, double maxNorm) {
        Backend cpu = Backends.cpu();
        Map<String, Buf> bufs = new LinkedHashMap<>();
        grads.forEach((k, v) -> bufs.put(k, v == null ? null : cpu.wrap(v)));
        return clip(cpu, bufs, maxNorm);
    }

    /** {@link #clipGlobalNorm(Map, double)} on gradients where backward left them (their backend's device). */
    public static double clipGlobalNorm(Gradients grads, double maxNorm) {
        return clip(grads.backend(), grads.buffers(), maxNorm);
    }

    private static double clip(Backend be, Map<String, Buf> grads, double maxNorm) {
        List<Buf> present = new ArrayList<>();
        for (Buf g : grads.values()) if (g != null) present.add(g);
        if (present.isEmpty()) return 0.0;
        double sumSq = 0;
        for (double sq : be.sumSquares(present)) {
            // Each gradient's norm is rounded to float, as PyTorch's per-tensor norm is.
            double n = (float) Math.sqrt(sq);
            sumSq += n * n;
        }
        float total = (float) Math.sqrt(sumSq);
        // PyTorch evaluates max_norm / tensor as tensor.reciprocal() * max_norm (Tensor.__rdiv__).
        float coef = (1f / (total + (float) 1e-6)) * (float) maxNorm;
        float clamped = Math.min(coef, 1f); // NaN stays NaN, as torch.clamp
        for (Buf g : grads.values()) if (g != null) be.scale(g, g.size(), clamped);
        return total;
    }
}
