package dev.bertj.cpu;

import dev.bertj.model.BertConfig;
import dev.bertj.model.BertForSequenceClassification;
import dev.bertj.model.TrainMode;
import dev.bertj.nn.Gradients;
import dev.bertj.tokenizer.Batch;
import org.junit.jupiter.api.Test;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A CPU backend runs every operation on the kernels it was given, never on a global choice: a
 * training step and an inference pass on {@code new CpuBackend(k)} call k's GEMM, softmax, GELU and
 * LayerNorm (forward and backward), and give exactly what the same model gives on the scalar kernels.
 */
class CpuBackendUsesItsKernelsTest {
    @Test
    void everyOperationRunsOnTheBackendsOwnKernels() {
        Set<String> called = ConcurrentHashMap.newKeySet();
        Kernels counting = (Kernels) Proxy.newProxyInstance(Kernels.class.getClassLoader(), new Class<?>[] {Kernels.class}, (p, m, args) -> {
            called.add(m.getName());
            try {
                return m.invoke(ScalarKernels.INSTANCE, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        });
        BertConfig c = BertConfig.of(Map.of("vocab_size", 13L, "hidden_size", 8L, "num_hidden_layers", 1L,
                "num_attention_heads", 2L, "intermediate_size", 12L, "max_position_embeddings", 16L)).withLabels(List.of("a", "b"));
        Batch b = new Batch(2, 4, new int[] {1, 2, 3, 4, 5, 6, 0, 0}, new int[8], new int[] {1, 1, 1, 1, 1, 1, 0, 0}, new int[] {0, 1});
        BertForSequenceClassification onProxy = BertForSequenceClassification.of(c, Map.of(), 2, 3).to(new CpuBackend(counting));
        BertForSequenceClassification onScalar = BertForSequenceClassification.of(c, Map.of(), 2, 3).to(new CpuBackend(ScalarKernels.INSTANCE));

        float[] want = onScalar.forward(b).logits().data();
        assertEquals(List.of(), List.copyOf(called), "nothing ran on the proxy's kernels yet");
        float[] got = onProxy.forward(b).logits().data();
        assertTrue(java.util.Arrays.equals(want, got), "the same kernels give the same logits");
        onProxy.trainStep(b, TrainMode.noDropout(), new Gradients(onProxy.backend()));
        for (String op : List.of("linear", "linearGelu", "gemm", "softmax", "gelu", "geluBackward", "layerNorm", "layerNormBackward")) {
            assertTrue(called.contains(op), op + " ran on the backend's kernels; called: " + called);
        }
    }
}
