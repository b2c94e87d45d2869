package dev.bertj.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Line charts and heat grids as inline SVG strings, for pages that must work without a script or
 * a network: axes with ticks, a legend, and a {@code <title>} tooltip with the numbers on every
 * point and cell.
 */
public final class Svg {
    private Svg() { }

    /** One line of a chart: its points ({@code NaN} y values leave a gap), colour and name. */
    public record Series(String name, String colour, double[] x, double[] y, boolean dashed, boolean points) { }

    private static final int W = 760, HGT = 260, ML = 76, MR = 16, MT = 16, MB = 40;

    /**
     * A line chart of {@code series} with axis labels; {@code log} puts y on a log10 scale (values
     * &lt;= 0 skipped).
     */
    public static String lineChart(String label, String xLabel, String yLabel, List<Series> series, boolean log) {
        double xmin = Double.POSITIVE_INFINITY, xmax = Double.NEGATIVE_INFINITY, ymin = Double.POSITIVE_INFINITY, ymax = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            for (int i = 0; i < s.x().length; i++) {
                double y = s.y()[i];
                if (!usable(y, log)) continue;
                double v = log ? Math.log10(y) : y;
                xmin = Math.min(xmin, s.x()[i]);
                xmax = Math.max(xmax, s.x()[i]);
                ymin = Math.min(ymin, v);
                ymax = Math.max(ymax, v);
            }
        }
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "<svg class=\"chart\" width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"%s\">", W, HGT + 24, Html.escape(label)));
        if (xmin > xmax) {
            b.append("<text x=\"").append(ML).append("\" y=\"40\">no values</text></svg>");
            return b.toString();
        }
        if (xmax == xmin) { xmin -= 1; xmax += 1; }
        if (ymax == ymin) { ymin -= log ? 0.5 : Math.max(1e-9, Math.abs(ymin) * 0.1); ymax += log ? 0.5 : Math.max(1e-9, Math.abs(ymax) * 0.1); }
        if (!log && ymin > 0 && ymin < 0.25 * ymax) ymin = 0; // start at zero when it costs little room
        final double x0 = xmin, x1 = xmax, y0 = ymin, y1 = ymax;
        java.util.function.DoubleUnaryOperator px = x -> ML + (x - x0) / (x1 - x0) * (W - ML - MR);
        java.util.function.DoubleUnaryOperator py = y -> MT + (1 - (y - y0) / (y1 - y0)) * (HGT - MT - MB);
        // Axes and ticks.
        b.append(String.format(Locale.ROOT, "<g class=\"axes\" stroke=\"#888\"><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/></g>",
                ML, HGT - MB, W - MR, HGT - MB, ML, MT, ML, HGT - MB));
        for (double t : ticks(x0, x1)) {
            double x = px.applyAsDouble(t);
            b.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#888\"/><text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>",
                    x, HGT - MB, x, HGT - MB + 4, x, HGT - MB + 16, num(t)));
        }
        for (double t : log ? logTicks(y0, y1) : ticks(y0, y1)) {
            double y = py.applyAsDouble(t);
            b.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#eee\"/><text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>",
                    ML, y, W - MR, y, ML - 4, y + 4, log ? num(Math.pow(10, t)) : num(t)));
        }
        b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>", (ML + W - MR) / 2, HGT - 6, Html.escape(xLabel)));
        b.append(String.format(Locale.ROOT, "<text transform=\"translate(14,%d) rotate(-90)\" text-anchor=\"middle\">%s</text>", (MT + HGT - MB) / 2,
                Html.escape(yLabel + (log ? " (log scale)" : ""))));
        // Lines, then points with their numbers as tooltips.
        for (Series s : series) {
            StringBuilder pts = new StringBuilder();
            List<String> paths = new ArrayList<>();
            for (int i = 0; i < s.x().length; i++) {
                if (!usable(s.y()[i], log)) {
                    if (!pts.isEmpty()) paths.add(pts.toString());
                    pts.setLength(0);
                    continue;
                }
                double v = log ? Math.log10(s.y()[i]) : s.y()[i];
                pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", px.applyAsDouble(s.x()[i]), py.applyAsDouble(v)));
            }
            if (!pts.isEmpty()) paths.add(pts.toString());
            for (String p : paths) {
                b.append("<polyline class=\"series\" data-series=\"").append(Html.escape(s.name())).append("\" fill=\"none\" stroke=\"").append(s.colour())
                        .append("\" stroke-width=\"").append(s.dashed() ? "1.5\" stroke-dasharray=\"5,4" : "2").append("\" points=\"").append(p.strip()).append("\"/>");
            }
            if (!s.points()) continue;
            // Every point of a short series gets a tooltip; a long one every k-th, to keep the page light.
            int every = Math.max(1, s.x().length / 1500);
            for (int i = 0; i < s.x().length; i += every) {
                if (!usable(s.y()[i], log)) continue;
                double v = log ? Math.log10(s.y()[i]) : s.y()[i];
                b.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"><title>%s at %s: %s</title></circle>",
                        px.applyAsDouble(s.x()[i]), py.applyAsDouble(v), s.colour(), Html.escape(s.name()), Html.escape(xLabel + " " + num(s.x()[i])),
                        num(s.y()[i])));
            }
        }
        b.append("</svg>");
        b.append(legend(series));
        return b.toString();
    }

    private static boolean usable(double y, boolean log) {
        return Double.isFinite(y) && (!log || y > 0);
    }

    /** The chart's legend: a swatch and the name of each series. */
    private static String legend(List<Series> series) {
        StringBuilder b = new StringBuilder("<div class=\"legend\">");
        for (Series s : series) {
            b.append("<span class=\"swatch\" style=\"background:").append(s.colour()).append("\"></span><span>").append(Html.escape(s.name())).append("</span>");
        }
        return b.append("</div>").toString();
    }

    /** About five round tick values covering [lo, hi]. */
    static List<Double> ticks(double lo, double hi) {
        double span = hi - lo, raw = span / 5, mag = Math.pow(10, Math.floor(Math.log10(raw))), r = raw / mag;
        double step = (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * mag;
        List<Double> out = new ArrayList<>();
        for (double t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.add(Math.abs(t) < step * 1e-9 ? 0 : t);
        return out;
    }

    /** Ticks of a log10 axis (given as exponents): 1, 2 and 5 times powers of ten, or every digit when those are too few. */
    static List<Double> logTicks(double lo, double hi) {
        for (int[] digits : new int[][] {{1}, {1, 2, 5}, {1, 2, 3, 4, 5, 6, 7, 8, 9}}) {
            List<Double> out = new ArrayList<>();
            for (int e = (int) Math.floor(lo); e <= Math.ceil(hi); e++) {
                for (int d : digits) {
                    double t = Math.log10(d) + e;
                    if (t >= lo - 1e-9 && t <= hi + 1e-9) out.add(t);
                }
            }
            if (out.size() >= 3) return out;
        }
        // Less than a decade: round values, placed on the log axis.
        List<Double> out = new ArrayList<>();
        for (double t : ticks(Math.pow(10, lo), Math.pow(10, hi))) if (t > 0) out.add(Math.log10(t));
        return out;
    }

    /** A number in at most four significant digits, plainly: 0.25, 1.5e-05. */
    public static String num(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e9) return Long.toString((long) v);
        String s = String.format(Locale.ROOT, "%.4g", v);
        int e = s.indexOf('e');
        String mantissa = e < 0 ? s : s.substring(0, e), exponent = e < 0 ? "" : s.substring(e);
        if (mantissa.contains(".")) mantissa = mantissa.replaceAll("0+$", "").replaceAll("\\.$", "");
        return mantissa + exponent;
    }

    /** Colour of {@code t} in [0, 1] on the white-to-dark-blue scale the pages share. */
    public static String heat(double t) {
        double c = Math.max(0, Math.min(1, Double.isNaN(t) ? 0 : t));
        return String.format(Locale.ROOT, "rgb(%d,%d,%d)", Math.round(255 + (8 - 255) * c), Math.round(255 + (48 - 255) * c), Math.round(255 + (107 - 255) * c));
    }
}
