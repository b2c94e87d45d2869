package dev.bertj.cuda;

import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The jar carries every kernel the GPU backend launches, each name once. Whether the kernels compile
 * is the build's nvcc step; whether they compute what the CPU does is {@link CudaBackendTest} on a GPU
 * (skipped, with the reason, without one).
 */
class KernelSourcesTest {
    @Test
    void everyKernelTheBackendNeedsIsPackagedOnce() {
        Set<String> want = Set.of("embeddings_forward", "embeddings_backward", "layernorm_forward", "layernorm_backward",
                "bias_gelu_forward", "gelu_backward", "bias_tanh_forward", "tanh_backward",
                "dropout_forward", "dropout_backward", "masked_softmax_forward", "softmax_backward",
                "cross_entropy_forward_backward", "adamw_step", "sum_squares", "scale_in_place", "add_bias", "add_into",
                "divide_in_place", "relu_forward", "relu_backward", "copy_rows", "dropout_apply", "mean_pool_forward",
                "mean_pool_backward", "additive_mask", "split_heads", "merge_heads");
        assertEquals(want, KernelSources.kernels().keySet());
    }

    @Test
    void includedHeadersAreCarriedToo() {
        for (String f : KernelSources.FILES) {
            String src = KernelSources.source(f);
            for (String h : KernelSources.HEADERS) {
                if (src.contains("#include \"" + h + "\"")) assertTrue(KernelSources.source(h).contains("#pragma once"), h);
            }
        }
    }
}
