package dev.bertj.explain;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Gradient norms per layer and parameter group: each module's weight and bias together (HF's
 * module names, {@code bert.} dropped), e.g. layer {@code layer 3}, group
 * {@code attention.self.query}; layer {@code embeddings} for the embedding tables and their
 * LayerNorm, {@code pooler}, and {@code head} for the task head.
 */
final class GradientGroups {
    private GradientGroups() { }

    /**
     * One entry per (layer, group), in model order (embeddings, layers 0.., pooler, head): {@code layer},
     * {@code group}, {@code norm} (the L2 norm of the group's gradients together), {@code parameters}.
     */
    static List<Object> of(Map<String, float[]> grads, int layers) {
        Map<String, double[]> sq = new LinkedHashMap<>();
        Map<String, List<String>> names = new LinkedHashMap<>();
        for (Map.Entry<String, float[]> e : grads.entrySet()) {
            String key = groupKey(e.getKey());
            double s = 0;
            for (float v : e.getValue()) s += (double) v * v;
            sq.computeIfAbsent(key, k -> new double[1])[0] += s;
            names.computeIfAbsent(key, k -> new ArrayList<>()).add(e.getKey());
        }
        List<String> keys = new ArrayList<>(sq.keySet());
        keys.sort(Comparator.comparingInt((String k) -> rank(layerOf(k), layers)).thenComparing(k -> k));
        List<Object> out = new ArrayList<>();
        for (String k : keys) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("layer", layerOf(k));
            m.put("group", k.substring(k.indexOf('|') + 1));
            m.put("norm", Math.sqrt(sq.get(k)[0]));
            m.put("parameters", names.get(k));
            out.add(m);
        }
        return out;
    }

    /** {@code layer|group} of a parameter name. */
    static String groupKey(String name) {
        String n = name.startsWith("bert.") ? name.substring(5) : name;
        int dot = n.lastIndexOf('.');
        String module = dot < 0 ? n : n.substring(0, dot);
        if (module.startsWith("embeddings.")) return "embeddings|" + module.substring("embeddings.".length());
        if (module.startsWith("encoder.layer.")) {
            String rest = module.substring("encoder.layer.".length());
            int d = rest.indexOf('.');
            return "layer " + rest.substring(0, d) + "|" + rest.substring(d + 1);
        }
        if (module.startsWith("pooler.")) return "pooler|" + module.substring("pooler.".length());
        // cls.predictions.bias is a bare parameter of its module, not a module of its own.
        if (name.equals("cls.predictions.bias")) return "head|cls.predictions.decoder";
        return "head|" + module;
    }

    private static String layerOf(String key) {
        return key.substring(0, key.indexOf('|'));
    }

    private static int rank(String layer, int layers) {
        if (layer.equals("embeddings")) return -1;
        if (layer.startsWith("layer ")) return Integer.parseInt(layer.substring(6));
        return layer.equals("pooler") ? layers : layers + 1;
    }
}
