package dev.bertj.train;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Masked-LM evaluation: the mean cross-entropy over every predicted (selected) token and its
 * perplexity, as HF's {@code run_mlm.py} reports it ({@code perplexity = exp(eval_loss)}).
 *
 * <p>The mean is over tokens, not over batches: HF's evaluation loop averages each batch's mean
 * weighted by the batch's rows, which makes the number depend on the batch size; here every masked
 * token counts once.
 *
 * @param loss mean cross-entropy per predicted token (NaN when no token was selected)
 * @param tokens number of predicted tokens
 * @param count number of examples
 */
public record MaskedLmMetrics(double loss, long tokens, int count) implements Evaluation {
    /** From a sum of per-token losses. */
    public static MaskedLmMetrics of(double lossSum, long tokens, int count) {
        return new MaskedLmMetrics(tokens == 0 ? Double.NaN : lossSum / tokens, tokens, count);
    }

    /** {@code exp(loss)}. */
    public double perplexity() {
        return Math.exp(loss);
    }

    @Override
    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        // JSON has no NaN: an evaluation with no selected token has no loss.
        m.put("loss", Double.isNaN(loss) ? null : loss);
        m.put("perplexity", Double.isNaN(loss) ? null : perplexity());
        m.put("tokens", tokens);
        m.put("count", (long) count);
        return m;
    }

    @Override
    public String summary() {
        return String.format("loss %.4f, perplexity %.4f (%d masked tokens)", loss, perplexity(), tokens);
    }
}
