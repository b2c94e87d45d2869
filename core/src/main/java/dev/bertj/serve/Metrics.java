package dev.bertj.serve;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntSupplier;

/**
 * The service's counters and histograms, written in Prometheus' text format (0.0.4) for
 * {@code GET /metrics}: requests by route and status, latency histograms of the queue, tokenization,
 * inference and whole request, batch size and tokens, and the queue depth. Lock-free
 * ({@link LongAdder}s), so recording never makes request threads wait on each other.
 */
public final class Metrics {
    private static final double[] SECONDS = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
    private static final double[] SIZES = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};
    private static final double[] TOKENS = {16, 64, 256, 1024, 2048, 4096, 8192, 16384, 32768, 65536};

    private final Map<String, LongAdder> requests = new ConcurrentHashMap<>();
    private final Map<String, Histogram> requestSeconds = new ConcurrentHashMap<>();
    private final Histogram queueSeconds = new Histogram(SECONDS);
    private final Histogram tokenizationSeconds = new Histogram(SECONDS);
    private final Histogram inferenceSeconds = new Histogram(SECONDS);
    private final Histogram batchSize = new Histogram(SIZES);
    private final Histogram batchTokens = new Histogram(TOKENS);
    private final LongAdder batchFailures = new LongAdder();
    private volatile IntSupplier queueDepth = () -> 0;
    private volatile IntSupplier inFlight = () -> 0;

    /** A cumulative histogram with fixed upper bounds. */
    static final class Histogram {
        final double[] bounds;
        final LongAdder[] counts;
        final DoubleAdder sum = new DoubleAdder();
        final LongAdder count = new LongAdder();

        Histogram(double[] bounds) {
            this.bounds = bounds;
            this.counts = new LongAdder[bounds.length];
            for (int i = 0; i < counts.length; i++) counts[i] = new LongAdder();
        }

        void observe(double v) {
            for (int i = 0; i < bounds.length; i++) {
                if (v <= bounds[i]) {
                    counts[i].increment();
                    break;
                }
            }
            sum.add(v);
            count.increment();
        }

        long count() {
            return count.sum();
        }
    }

    /** Counts one answered request of {@code route} with {@code status}, which took {@code seconds}. */
    public void request(String route, int status, double seconds) {
        requests.computeIfAbsent(route + '\u0000' + status, k -> new LongAdder()).increment();
        requestSeconds.computeIfAbsent(route, k -> new Histogram(SECONDS)).observe(seconds);
    }

    /** Time one input waited in the batcher's queue. */
    public void queued(double seconds) {
        queueSeconds.observe(seconds);
    }

    /** Time spent tokenizing one request. */
    public void tokenized(double seconds) {
        tokenizationSeconds.observe(seconds);
    }

    /** One forward pass: its rows, its padded tokens and its time. */
    public void batch(int rows, int paddedTokens, double seconds) {
        batchSize.observe(rows);
        batchTokens.observe(paddedTokens);
        inferenceSeconds.observe(seconds);
    }

    /** One forward pass that failed (its requests were answered with an error). */
    public void batchFailed() {
        batchFailures.increment();
    }

    /** Where the queue depth and the number of requests in flight are read from. */
    public void gauges(IntSupplier queueDepth, IntSupplier inFlight) {
        this.queueDepth = queueDepth;
        this.inFlight = inFlight;
    }

    /** Requests answered so far for {@code route} with {@code status}. */
    public long requests(String route, int status) {
        LongAdder a = requests.get(route + '\u0000' + status);
        return a == null ? 0 : a.sum();
    }

    /** Inputs that have passed through the queue so far. */
    public long queuedInputs() {
        return queueSeconds.count();
    }

    /** Everything, in Prometheus' text exposition format. */
    public String prometheus() {
        StringBuilder sb = new StringBuilder(4096);
        sb.append("# HELP bertj_requests_total HTTP requests answered, by route and status.\n# TYPE bertj_requests_total counter\n");
        for (Map.Entry<String, LongAdder> e : new TreeMap<>(requests).entrySet()) {
            int cut = e.getKey().indexOf('\u0000');
            sb.append("bertj_requests_total{route=\"").append(label(e.getKey().substring(0, cut))).append("\",status=\"")
                    .append(e.getKey().substring(cut + 1)).append("\"} ").append(e.getValue().sum()).append('\n');
        }
        sb.append("# HELP bertj_request_duration_seconds Time from the request's arrival to its answer, by route.\n")
                .append("# TYPE bertj_request_duration_seconds histogram\n");
        for (Map.Entry<String, Histogram> e : new TreeMap<>(requestSeconds).entrySet()) {
            histogram(sb, "bertj_request_duration_seconds", "route=\"" + label(e.getKey()) + "\",", e.getValue());
        }
        write(sb, "bertj_queue_duration_seconds", "Time an input waited in the batching queue.", queueSeconds);
        write(sb, "bertj_tokenization_duration_seconds", "Time spent tokenizing a request.", tokenizationSeconds);
        write(sb, "bertj_inference_duration_seconds", "Time of one forward pass of a batch.", inferenceSeconds);
        write(sb, "bertj_batch_size", "Inputs per forward pass.", batchSize);
        write(sb, "bertj_batch_tokens", "Padded tokens per forward pass.", batchTokens);
        sb.append("# HELP bertj_batch_failures_total Forward passes that failed.\n# TYPE bertj_batch_failures_total counter\n")
                .append("bertj_batch_failures_total ").append(batchFailures.sum()).append('\n');
        sb.append("# HELP bertj_queue_size Inputs waiting for the inference loop.\n# TYPE bertj_queue_size gauge\n")
                .append("bertj_queue_size ").append(queueDepth.getAsInt()).append('\n');
        sb.append("# HELP bertj_requests_in_flight Requests holding a concurrency permit.\n# TYPE bertj_requests_in_flight gauge\n")
                .append("bertj_requests_in_flight ").append(inFlight.getAsInt()).append('\n');
        return sb.toString();
    }

    private static void write(StringBuilder sb, String name, String help, Histogram h) {
        sb.append("# HELP ").append(name).append(' ').append(help).append("\n# TYPE ").append(name).append(" histogram\n");
        histogram(sb, name, "", h);
    }

    private static void histogram(StringBuilder sb, String name, String labels, Histogram h) {
        long cumulative = 0;
        for (int i = 0; i < h.bounds.length; i++) {
            cumulative += h.counts[i].sum();
            sb.append(name).append("_bucket{").append(labels).append("le=\"").append(number(h.bounds[i])).append("\"} ").append(cumulative).append('\n');
        }
        // Read count before +Inf so that +Inf is never below the finite buckets under concurrent updates.
        long count = Math.max(h.count.sum(), cumulative);
        sb.append(name).append("_bucket{").append(labels).append("le=\"+Inf\"} ").append(count).append('\n');
        String l = labels.isEmpty() ? "" : "{" + labels.substring(0, labels.length() - 1) + "}";
        sb.append(name).append("_sum").append(l).append(' ').append(h.sum.sum()).append('\n');
        sb.append(name).append("_count").append(l).append(' ').append(count).append('\n');
    }

    private static String number(double d) {
        return java.math.BigDecimal.valueOf(d).stripTrailingZeros().toPlainString(); // 0.0005, not 5.0E-4
    }

    /** Escapes a label value as the text format requires. */
    private static String label(String v) {
        return v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
