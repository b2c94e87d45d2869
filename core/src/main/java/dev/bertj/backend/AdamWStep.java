package dev.bertj.backend;

/**
 * The scalars of one AdamW update of one parameter, formed in double and rounded to float once, as
 * PyTorch passes Python floats to its float kernels ({@code dev.bertj.train.AdamW} makes them):
 * <pre>
 * p = p * decay                                  decay = 1 - lr * weight_decay
 * m = beta1 * m + (1 - beta1) * g
 * v = beta2 * v + (1 - beta2) * g^2
 * p = p + negStepSize * m / (sqrt(v) / bc2Sqrt + eps)     negStepSize = -lr / (1 - beta1^t), bc2Sqrt = sqrt(1 - beta2^t)
 * </pre>
 */
public record AdamWStep(float decay, float beta1, float oneMinusBeta1, float beta2, float oneMinusBeta2,
                        float negStepSize, float bc2Sqrt, float eps) {
}
