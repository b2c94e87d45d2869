package dev.bertj.model;

import java.util.List;
import java.util.Map;

/**
 * The notebook's {@code CustomConfig} for {@link BertClassifier}, as config.json carries it: the
 * hidden layer's width, the number of classes, the head's dropout, and which features it pools
 * (written as the three flags {@code cls_only}, {@code average_all}, {@code pooler}, exactly one true).
 *
 * @param ffOutputDim {@code ff_output_dim}, the head's hidden width
 * @param nClasses {@code n_classes}
 * @param ffDropout {@code ff_dropout}
 * @param pooling the features the head reads
 */
public record CustomHeadConfig(int ffOutputDim, int nClasses, double ffDropout, BertClassifier.Pooling pooling) {
    /** The config.json keys this record reads and writes. */
    public static final List<String> KEYS = List.of("ff_output_dim", "n_classes", "ff_dropout", "cls_only", "average_all", "pooler");

    /** Checks the sizes and the dropout probability. */
    public CustomHeadConfig {
        if (ffOutputDim <= 0 || nClasses <= 0) throw new IllegalArgumentException("ff_output_dim and n_classes must be positive, got " + ffOutputDim + " and " + nClasses);
        if (!(ffDropout >= 0 && ffDropout < 1)) throw new IllegalArgumentException("ff_dropout must be in [0, 1), got " + ffDropout);
        if (pooling == null) throw new IllegalArgumentException("the custom head needs a pooling");
    }

    /**
     * Reads the fields from {@code config}; ff_dropout defaults to hidden_dropout_prob (what training
     * used when it was absent).
     *
     * @throws IllegalArgumentException naming the field that is missing or wrong
     */
    public static CustomHeadConfig from(BertConfig config) {
        Map<String, Object> m = config.toMap();
        boolean cls = Boolean.TRUE.equals(m.get("cls_only")), avg = Boolean.TRUE.equals(m.get("average_all"));
        boolean pool = Boolean.TRUE.equals(m.get("pooler"));
        if ((cls ? 1 : 0) + (avg ? 1 : 0) + (pool ? 1 : 0) != 1) {
            throw new IllegalArgumentException("the custom head needs exactly one of cls_only, average_all, pooler set to true; config has cls_only="
                    + m.get("cls_only") + ", average_all=" + m.get("average_all") + ", pooler=" + m.get("pooler"));
        }
        BertClassifier.Pooling p = cls ? BertClassifier.Pooling.CLS_ONLY : avg ? BertClassifier.Pooling.AVERAGE_ALL : BertClassifier.Pooling.POOLER;
        Object d = m.get("ff_dropout");
        Object hd = m.get("hidden_dropout_prob");
        double dropout = d instanceof Number num ? num.doubleValue() : hd instanceof Number h ? h.doubleValue() : config.hiddenDropoutProb();
        return new CustomHeadConfig(positive(m, "ff_output_dim"), positive(m, "n_classes"), dropout, p);
    }

    /** {@code config} with these six fields set (the other keys kept). */
    public BertConfig apply(BertConfig config) {
        return config.with("ff_output_dim", (long) ffOutputDim).with("n_classes", (long) nClasses).with("ff_dropout", ffDropout)
                .with("cls_only", pooling == BertClassifier.Pooling.CLS_ONLY)
                .with("average_all", pooling == BertClassifier.Pooling.AVERAGE_ALL)
                .with("pooler", pooling == BertClassifier.Pooling.POOLER);
    }

    private static int positive(Map<String, Object> m, String key) {
        Object v = m.get(key);
        if (!(v instanceof Number num) || num.longValue() <= 0 || num.longValue() > Integer.MAX_VALUE || num.doubleValue() != num.longValue()) {
            throw new IllegalArgumentException("config.json needs a positive integer " + key + " for the custom head, got " + v);
        }
        return num.intValue();
    }
}
