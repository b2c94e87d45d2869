package dev.bertj.report;

import dev.bertj.io.AtomicFiles;
import dev.bertj.io.Json;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code report.html} of a training run, drawn from what {@code ./bertj train} writes to
 * {@code metrics.json}: the training loss per step (raw and smoothed), the learning rate, the
 * gradient norm before clipping, validation metrics per epoch and the confusion matrix. Inline
 * SVG and CSS only: the page has no script and needs no network.
 */
public final class TrainingReport {
    /** TensorBoard's default smoothing: an exponential moving average with weight 0.6, debiased. */
    public static final double SMOOTHING = 0.6;

    private TrainingReport() { }

    /** Writes the report of {@code metrics} (metrics.json's fields) to {@code file}, atomically. */
    public static void write(Path file, Map<String, Object> metrics) throws IOException {
        AtomicFiles.writeString(file, html(metrics));
    }

    /** The report's HTML. */
    public static String html(Map<String, Object> metrics) {
        List<Map<String, Object>> log = objects(metrics.get("log_history"));
        int n = log.size();
        double[] step = new double[n], loss = new double[n], lr = new double[n], grad = new double[n];
        for (int i = 0; i < n; i++) {
            Map<String, Object> e = log.get(i);
            step[i] = number(e.get("step"));
            loss[i] = number(e.get("loss"));
            lr[i] = number(e.get("learning_rate"));
            grad[i] = number(e.get("grad_norm"));
        }
        StringBuilder b = new StringBuilder();
        b.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>bertj training report</title>\n")
                .append("<link rel=\"icon\" href=\"data:,\">\n<style>\n").append(Html.resource(TrainingReport.class, "report.css")).append("</style>\n</head>\n<body>\n");
        b.append("<h1>bertj training report</h1>\n<p>").append(Html.escape(summary(metrics, n))).append("</p>\n");

        b.append("<section id=\"loss\"><h2>Training loss</h2>\n<p class=\"note\">The loss of every optimizer step, and its exponential moving average (weight ")
                .append(SMOOTHING).append(", debiased, as TensorBoard smooths). Hover a point for its value.</p>\n");
        b.append(Svg.lineChart("training loss per step", "step", "loss", List.of(
                new Svg.Series("loss (raw)", "#9ecae1", step, loss, false, true),
                new Svg.Series("loss (smoothed)", "#08519c", step, smooth(loss, SMOOTHING), false, false)), false));
        b.append("</section>\n");

        b.append("<section id=\"learning-rate\"><h2>Learning rate</h2>\n<p class=\"note\">The rate each step used: linear warmup, then linear decay to 0.</p>\n");
        b.append(Svg.lineChart("learning rate per step", "step", "learning rate", List.of(new Svg.Series("learning rate", "#31a354", step, lr, false, true)), false));
        b.append("</section>\n");

        Object clip = metrics.get("max_grad_norm");
        double clipAt = clip instanceof Number c ? c.doubleValue() : 0;
        b.append("<section id=\"grad-norm\"><h2>Gradient norm before clipping</h2>\n<p class=\"note\">The global L2 norm of all gradients at each step, before clipping")
                .append(clipAt > 0 ? " to " + Svg.num(clipAt) + " (dashed line)" : " (clipping was off)").append(". Steps before a resume have none.</p>\n");
        List<Svg.Series> gs = new ArrayList<>(List.of(new Svg.Series("gradient norm", "#e6550d", step, grad, false, true)));
        if (clipAt > 0 && n > 0) gs.add(new Svg.Series("clipping threshold", "#636363", new double[] {step[0], step[n - 1]}, new double[] {clipAt, clipAt}, true, false));
        b.append(Svg.lineChart("gradient norm before clipping per step", "step", "gradient norm", gs, true));
        b.append("</section>\n");

        validation(b, metrics);
        confusion(b, metrics);
        b.append("<footer><p>Written by <code>./bertj train</code> from the numbers in <code>metrics.json</code> beside this file.</p></footer>\n</body>\n</html>\n");
        return b.toString();
    }

    private static String summary(Map<String, Object> m, int steps) {
        StringBuilder s = new StringBuilder("Task: " + m.getOrDefault("task", "classification") + ". " + steps + " optimizer steps");
        if (m.get("wall_time_s") instanceof Number t) s.append(String.format(Locale.ROOT, " in %.1f s", t.doubleValue()));
        s.append('.');
        if (m.get("labels") instanceof List<?> labels) s.append(" Labels: ").append(String.join(", ", labels.stream().map(String::valueOf).toList())).append('.');
        return s.toString();
    }

    /** Validation metrics per epoch: a table with every number, and a chart when there are any. */
    private static void validation(StringBuilder b, Map<String, Object> metrics) {
        List<Map<String, Object>> epochs = objects(metrics.get("epochs"));
        b.append("<section id=\"validation\"><h2>Validation metrics per epoch</h2>\n");
        if (epochs.isEmpty()) {
            b.append("<p class=\"note\">No epoch finished.</p></section>\n");
            return;
        }
        List<String> keys = new ArrayList<>();
        for (Map<String, Object> e : epochs) {
            if (e.get("validation") instanceof Map<?, ?> v) {
                for (Object k : v.keySet()) if (!keys.contains(String.valueOf(k)) && !List.of("confusion_matrix", "count").contains(String.valueOf(k))) keys.add(String.valueOf(k));
            }
        }
        b.append("<table id=\"epoch-table\"><thead><tr><th scope=\"col\">epoch</th><th scope=\"col\">train loss</th>");
        for (String k : keys) b.append("<th scope=\"col\">validation ").append(Html.escape(k)).append("</th>");
        b.append("</tr></thead><tbody>");
        int n = epochs.size();
        double[] ep = new double[n];
        List<double[]> cols = new ArrayList<>();
        for (int j = 0; j < keys.size(); j++) cols.add(new double[n]);
        for (int i = 0; i < n; i++) {
            Map<String, Object> e = epochs.get(i);
            ep[i] = number(e.get("epoch"));
            b.append("<tr><td>").append(Svg.num(ep[i])).append("</td><td>").append(cell(e.get("train_loss"))).append("</td>");
            Map<?, ?> v = e.get("validation") instanceof Map<?, ?> m ? m : Map.of();
            for (int j = 0; j < keys.size(); j++) {
                cols.get(j)[i] = number(v.get(keys.get(j)));
                b.append("<td>").append(cell(v.get(keys.get(j)))).append("</td>");
            }
            b.append("</tr>");
        }
        b.append("</tbody></table>\n");
        if (keys.isEmpty()) {
            b.append("<p class=\"note\">No validation set was given (--validation).</p>\n");
        } else {
            String[] colours = {"#3182bd", "#e6550d", "#31a354", "#756bb1", "#636363"};
            List<Svg.Series> s = new ArrayList<>();
            for (int j = 0; j < keys.size(); j++) s.add(new Svg.Series("validation " + keys.get(j), colours[j % colours.length], ep, cols.get(j), false, true));
            b.append(Svg.lineChart("validation metrics per epoch", "epoch", "value", s, false));
        }
        b.append("</section>\n");
    }

    private static String cell(Object v) {
        return v instanceof Number x ? Svg.num(x.doubleValue()) : "—";
    }

    /** The confusion matrices (the last validation's, the test set's) as labelled grids. */
    private static void confusion(StringBuilder b, Map<String, Object> metrics) {
        List<Map<String, Object>> epochs = objects(metrics.get("epochs"));
        List<String> labels = new ArrayList<>();
        if (metrics.get("labels") instanceof List<?> l) l.forEach(x -> labels.add(String.valueOf(x)));
        b.append("<section id=\"confusion\"><h2>Confusion matrix</h2>\n");
        boolean any = false;
        if (!epochs.isEmpty() && epochs.getLast().get("validation") instanceof Map<?, ?> v && v.get("confusion_matrix") != null) {
            b.append(grid("validation, epoch " + Svg.num(number(epochs.getLast().get("epoch"))), v.get("confusion_matrix"), labels));
            any = true;
        }
        if (metrics.get("test") instanceof Map<?, ?> t && t.get("confusion_matrix") != null) {
            b.append(grid("test set", t.get("confusion_matrix"), labels));
            any = true;
        }
        if (!any) b.append("<p class=\"note\">No classification metrics (no --validation or --test, or a masked-LM run).</p>\n");
        b.append("</section>\n");
    }

    /** One confusion matrix: rows are true labels, columns predicted; colour is the share of the row. */
    static String grid(String caption, Object matrix, List<String> labels) {
        List<Object> rows = Json.asArray(matrix, "confusion_matrix");
        StringBuilder b = new StringBuilder("<table class=\"confusion\"><caption>").append(Html.escape(caption))
                .append(" (rows: true label, columns: predicted)</caption><tr><th scope=\"col\">true \\ predicted</th>");
        for (int c = 0; c < rows.size(); c++) b.append("<th scope=\"col\">").append(Html.escape(name(labels, c))).append("</th>");
        b.append("</tr>");
        for (int r = 0; r < rows.size(); r++) {
            List<Object> row = Json.asArray(rows.get(r), "confusion_matrix[" + r + "]");
            long total = 0;
            for (Object x : row) total += Json.asLong(x, "count");
            b.append("<tr><th scope=\"row\">").append(Html.escape(name(labels, r))).append("</th>");
            for (int c = 0; c < row.size(); c++) {
                long count = Json.asLong(row.get(c), "count");
                double share = total == 0 ? 0 : (double) count / total;
                b.append(String.format(Locale.ROOT, "<td style=\"background:%s;color:%s\" title=\"true %s, predicted %s: %d of %d (%.1f%%)\">%d</td>",
                        Svg.heat(share), share > 0.55 ? "#fff" : "#000", Html.escape(name(labels, r)), Html.escape(name(labels, c)), count, total,
                        100 * share, count));
            }
            b.append("</tr>");
        }
        b.append("</table>\n<div class=\"legend\"><span>share of the true label's examples:</span><span>0%</span><span class=\"bar\" style=\"background:linear-gradient(to right,")
                .append(Svg.heat(0)).append(',').append(Svg.heat(0.5)).append(',').append(Svg.heat(1)).append(")\"></span><span>100%</span></div>\n");
        return b.toString();
    }

    private static String name(List<String> labels, int i) {
        return i < labels.size() ? labels.get(i) : "LABEL_" + i;
    }

    /** TensorBoard's smoothing: {@code ema = w * ema + (1 - w) * x}, divided by {@code 1 - w^k} (k values seen); NaN stays a gap. */
    static double[] smooth(double[] x, double w) {
        double[] out = new double[x.length];
        double ema = 0;
        int k = 0;
        for (int i = 0; i < x.length; i++) {
            if (!Double.isFinite(x[i])) {
                out[i] = Double.NaN;
                continue;
            }
            ema = w * ema + (1 - w) * x[i];
            k++;
            out[i] = ema / (1 - Math.pow(w, k));
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> objects(Object v) {
        List<Map<String, Object>> out = new ArrayList<>();
        if (v instanceof List<?> l) for (Object o : l) if (o instanceof Map<?, ?> m) out.add((Map<String, Object>) m);
        return out;
    }

    private static double number(Object v) {
        return v instanceof Number x ? x.doubleValue() : Double.NaN;
    }
}
