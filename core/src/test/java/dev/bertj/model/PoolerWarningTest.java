package dev.bertj.model;

import dev.bertj.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A checkpoint without pooler weights (all-MiniLM-L6-v2's) warns about the new pooler only when
 * something uses pooler_output: not when the encoder is loaded for mean or CLS embeddings.
 */
class PoolerWarningTest {
    @Test
    void theNewPoolerIsWarnedAboutOnlyByWhatUsesIt() {
        BertConfig c = BertConfig.of(Map.of("vocab_size", 13L, "hidden_size", 8L, "num_hidden_layers", 1L,
                "num_attention_heads", 2L, "intermediate_size", 12L, "max_position_embeddings", 16L)).withLabels(List.of("a", "b"));
        Map<String, Tensor> weights = new LinkedHashMap<>(BertModel.of(c, Map.of(), 1).parameters());
        weights.keySet().removeIf(n -> n.startsWith("pooler."));
        List<String> warnings = new ArrayList<>();
        Logger log = Logger.getLogger(WeightSource.class.getName());
        Handler h = new Handler() {
            @Override public void publish(LogRecord r) { warnings.add(r.getMessage()); }
            @Override public void flush() { }
            @Override public void close() { }
        };
        log.addHandler(h);
        try {
            BertModel encoder = BertModel.of(c, weights, 1);
            assertEquals(List.of(), warnings, "loading the encoder for embeddings says nothing");
            assertTrue(!encoder.hasPretrainedPooler());

            BertClassifier.of(BertModel.of(new CustomHeadConfig(4, 2, 0.1, BertClassifier.Pooling.CLS_ONLY).apply(c), weights, 1),
                    Map.of(), 1);
            assertTrue(warnings.stream().noneMatch(w -> w.contains("pooler.")), "a CLS head does not use the pooler: " + warnings);

            BertForSequenceClassification.of(c, weights, 2, 1);
            assertTrue(warnings.stream().anyMatch(w -> w.contains("pooler.dense.weight")), "a head on pooler_output warns: " + warnings);
        } finally {
            log.removeHandler(h);
        }
    }
}
