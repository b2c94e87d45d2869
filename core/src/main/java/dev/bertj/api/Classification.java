package dev.bertj.api;

import java.util.Map;

/**
 * A classifier's answer for one text.
 *
 * @param label the most probable label (config.json's {@code id2label}, else {@code LABEL_<id>})
 * @param probability its probability
 * @param probabilities every label's probability (softmax of the logits), in label-id order
 */
public record Classification(String label, float probability, Map<String, Float> probabilities) {
    /** Copies the map, keeping its order. */
    public Classification {
        probabilities = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(probabilities));
    }
}
