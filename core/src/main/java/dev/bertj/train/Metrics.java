package dev.bertj.train;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Classification metrics from predictions: accuracy, F1 and the confusion matrix
 * ({@code confusion[true][predicted]}). F1 is the positive class's (label 1) for two classes, as
 * scikit-learn's default {@code f1_score}, and the macro average otherwise.
 *
 * @param loss mean cross-entropy over the examples
 * @param accuracy fraction predicted right
 * @param f1 see above
 * @param confusion counts, rows = true label, columns = predicted
 * @param count number of examples
 */
public record Metrics(double loss, double accuracy, double f1, long[][] confusion, int count) implements Evaluation {

    /** Metrics from true labels, predicted labels and the summed loss. */
    public static Metrics of(int[] truth, int[] predicted, double lossSum, int classes) {
        long[][] cm = new long[classes][classes];
        int right = 0;
        for (int i = 0; i < truth.length; i++) {
            cm[truth[i]][predicted[i]]++;
            if (truth[i] == predicted[i]) right++;
        }
        double f1;
        if (classes == 2) {
            f1 = f1(cm, 1);
        } else {
            double sum = 0;
            for (int c = 0; c < classes; c++) sum += f1(cm, c);
            f1 = sum / classes;
        }
        int n = truth.length;
        return new Metrics(n == 0 ? Double.NaN : lossSum / n, n == 0 ? Double.NaN : (double) right / n, f1, cm, n);
    }

    private static double f1(long[][] cm, int c) {
        long tp = cm[c][c], fp = 0, fn = 0;
        for (int k = 0; k < cm.length; k++) {
            if (k == c) continue;
            fp += cm[k][c];
            fn += cm[c][k];
        }
        return tp == 0 ? 0.0 : 2.0 * tp / (2.0 * tp + fp + fn);
    }

    @Override
    public String summary() {
        return String.format("loss %.4f, accuracy %.4f, f1 %.4f", loss, accuracy, f1);
    }

    /** As JSON-ready values: accuracy, f1, loss, confusion_matrix, count. */
    @Override
    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("accuracy", accuracy);
        m.put("f1", f1);
        m.put("loss", loss);
        List<Object> rows = new ArrayList<>();
        for (long[] row : confusion) {
            List<Object> r = new ArrayList<>();
            for (long v : row) r.add(v);
            rows.add(r);
        }
        m.put("confusion_matrix", rows);
        m.put("count", (long) count);
        return m;
    }
}
