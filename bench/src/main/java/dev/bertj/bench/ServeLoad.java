package dev.bertj.bench;

import dev.bertj.data.Email;
import dev.bertj.io.Json;
import dev.bertj.model.BertModel;
import dev.bertj.model.SentenceEmbeddings;
import dev.bertj.serve.BertServer;
import dev.bertj.serve.EmbeddingService;
import dev.bertj.serve.ServerConfig;
import dev.bertj.tokenizer.Batch;
import dev.bertj.tokenizer.BertTokenizer;
import dev.bertj.tokenizer.DataCollatorWithPadding;
import dev.bertj.tokenizer.EncodeOptions;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A bounded load generator for {@code ./bertj serve} on loopback (not a JMH benchmark: it measures a
 * server under N concurrent clients, request by request, which JMH's thread model does not express).
 * The peer, in the same process and run, interleaved with it so both see the same machine: the same
 * texts embedded in-process, one at a time (latency, in pairs with the server's) and in batches of 32
 * (throughput, in rounds of 128 texts with the server's at 8 and 64 clients). Real SpamAssassin texts
 * (subject and body), truncated at 128 tokens; one text per request ({@code /embed}, {@code "truncate": true}).
 * Each client is a thread on a keep-alive connection of its own ({@link KeepAliveClient}); at 1 client the
 * same texts also go through {@code java.net.http.HttpClient}, whose own cost is then on record beside it.
 * <pre>
 * java --add-modules jdk.incubator.vector -cp bench/target/benchmarks.jar dev.bertj.bench.ServeLoad MODEL_DIR [TEXTS] [SECONDS]
 * </pre>
 * MODEL_DIR is a model directory (./bertj makes the default one in ~/.cache/bertj/models/default);
 * TEXTS (default 512) texts are read from the corpus (-Dbertj.corpus=FILE.jsonl, else the cache's);
 * the latency pairs stop after 256 or SECONDS (default 60), the throughput rounds after TEXTS / 128 rounds or 3 x SECONDS.
 */
public final class ServeLoad {
    private ServeLoad() { }

    /** Latencies (ms) of the requests a phase completed, and the wall time it took. */
    record Phase(double[] ms, double seconds) {
        static Phase merge(List<Phase> ps) {
            return new Phase(ps.stream().flatMapToDouble(p -> Arrays.stream(p.ms())).toArray(), ps.stream().mapToDouble(Phase::seconds).sum());
        }

        double perSecond() {
            return ms.length / seconds;
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) throw new IllegalArgumentException("usage: ServeLoad MODEL_DIR [TEXTS] [SECONDS]");
        Path dir = Path.of(args[0]);
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 512;
        double limit = args.length > 2 ? Double.parseDouble(args[2]) : 60;
        List<String> texts = texts(n);
        BertTokenizer tok = BertTokenizer.fromPretrained(dir);
        BertModel model = BertModel.fromPretrained(dir);
        EmbeddingService.Settings d = EmbeddingService.Settings.defaults();
        EmbeddingService service = EmbeddingService.load(dir, "bench", new EmbeddingService.Settings(d.maxBatchTokens(), d.maxClientBatchSize(), 128,
                true, d.device()), null);
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
        try (BertServer server = BertServer.start(service, ServerConfig.defaults().withPort(0))) {
            String url = server.url();
            System.out.printf("%d texts, %d cores, Java %s, server %s%n", texts.size(), Runtime.getRuntime().availableProcessors(),
                    System.getProperty("java.version"), url);
            // Warm-up of every path (JIT, arenas), not measured: the JDK's HTTP server and clients are
            // still compiling after a few hundred requests, which on 2 vCPUs slows the forward beside them.
            List<String> warm = texts.subList(0, Math.min(128, n));
            inProcessBatches(model, tok, warm, 32);
            for (int r = 0; r < 3; r++) serve(null, url, warm, 8);
            for (String t : warm) {
                inProcessOne(model, tok, t);
                serve(null, url, List.of(t), 1);
                serve(http, url, List.of(t), 1);
            }

            // The machine is shared and its speed drifts, so the two sides are interleaved and see the same
            // conditions: latency as pairs (the same text in-process, then through the server), throughput as
            // rounds of 128 texts (in-process batches of 32, then the server at 8 and at 64 clients).
            int pairs = Math.min(n, 256);
            double[] alone = new double[pairs], served = new double[pairs], added = new double[pairs];
            double[] viaJdk = new double[pairs], addedJdk = new double[pairs];
            long t0 = System.nanoTime();
            int done = 0;
            for (; done < pairs && (System.nanoTime() - t0) / 1e9 < limit; done++) {
                List<String> one = texts.subList(done, done + 1);
                alone[done] = inProcessOne(model, tok, texts.get(done));
                served[done] = serve(null, url, one, 1).ms()[0];
                viaJdk[done] = serve(http, url, one, 1).ms()[0];
                added[done] = served[done] - alone[done];
                addedJdk[done] = viaJdk[done] - alone[done];
            }
            alone = Arrays.copyOf(alone, done);
            served = Arrays.copyOf(served, done);
            added = Arrays.copyOf(added, done);
            viaJdk = Arrays.copyOf(viaJdk, done);
            addedJdk = Arrays.copyOf(addedJdk, done);
            List<Phase> inBatches = new ArrayList<>(), at8 = new ArrayList<>(), at64 = new ArrayList<>();
            t0 = System.nanoTime();
            for (int from = 0; from + 128 <= n && (System.nanoTime() - t0) / 1e9 < 3 * limit; from += 128) {
                List<String> block = texts.subList(from, from + 128);
                inBatches.add(inProcessBatches(model, tok, block, 32));
                at8.add(serve(null, url, block, 8));
                at64.add(serve(null, url, block, 64));
            }
            Phase in32 = Phase.merge(inBatches), c8 = Phase.merge(at8), c64 = Phase.merge(at64);
            System.out.println();
            System.out.println("| what | clients | texts | texts/s | p50 ms | p99 ms |");
            System.out.println("|---|---|---|---|---|---|");
            row("in-process, one text at a time", "-", new Phase(alone, Arrays.stream(alone).sum() / 1000), true);
            row("server /embed, one text per request", "1", new Phase(served, Arrays.stream(served).sum() / 1000), true);
            row("server /embed, java.net.http.HttpClient", "1", new Phase(viaJdk, Arrays.stream(viaJdk).sum() / 1000), true);
            row("in-process, batches of 32", "-", in32, false);
            row("server /embed, one text per request", "8", c8, true);
            row("server /embed, one text per request", "64", c64, true);
            System.out.printf("%n64 clients: %.0f%% of in-process batch-32 throughput (goal >= 85%%)%n", 100 * c64.perSecond() / in32.perSecond());
            System.out.printf("1 client: p50 %.2f ms vs in-process p50 %.2f ms; added latency, median over %d pairs: %+.2f ms (goal <= 2 ms)%n",
                    percentile(served, 50), percentile(alone, 50), done, percentile(added, 50));
            System.out.printf("1 client through java.net.http.HttpClient: p50 %.2f ms; added latency, median over the same pairs: %+.2f ms%n",
                    percentile(viaJdk, 50), percentile(addedJdk, 50));
        }
    }

    private static void row(String what, String clients, Phase p, boolean latency) {
        System.out.printf("| %s | %s | %d | %.1f | %s | %s |%n", what, clients, p.ms().length, p.perSecond(),
                latency ? String.format("%.2f", percentile(p.ms(), 50)) : "-", latency ? String.format("%.2f", percentile(p.ms(), 99)) : "-");
    }

    /** Subject and body of the first {@code n} non-empty e-mails of the corpus. */
    static List<String> texts(int n) throws Exception {
        Path file = Path.of(System.getProperty("bertj.corpus", dev.bertj.io.Cache.spamAssassinEmails().toString()));
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (out.size() == n) break;
            if (line.isBlank()) continue;
            Map<String, Object> m = Json.asObject(Json.parse(line, file.toString()), "line");
            String text = Email.toText(Json.asString(m.get("text"), "text")).strip();
            if (!text.isEmpty()) out.add(text);
        }
        if (out.size() < n) throw new IllegalStateException(file + " has only " + out.size() + " texts");
        return out;
    }

    private static final EncodeOptions TRUNCATE_128 = EncodeOptions.builder().truncation(EncodeOptions.Truncation.LONGEST_FIRST).maxLength(128).build();

    /** The texts in order, in batches of {@code batch}: tokenize, pad, forward, mean-pool, normalize; one latency per batch. */
    static Phase inProcessBatches(BertModel model, BertTokenizer tok, List<String> texts, int batch) {
        DataCollatorWithPadding collator = new DataCollatorWithPadding(tok);
        int h = model.config().hiddenSize();
        double[] ms = new double[texts.size()];
        long t0 = System.nanoTime();
        for (int i = 0; i < texts.size(); i += batch) {
            long s = System.nanoTime();
            Batch b = collator.collate(tok.encodeBatch(texts.subList(i, Math.min(texts.size(), i + batch)), TRUNCATE_128));
            float[] e = SentenceEmbeddings.mean(model.forward(b).lastHiddenState().data(), b.attentionMask(), b.batchSize(), b.seqLen(), h);
            SentenceEmbeddings.normalize(e, b.batchSize(), h);
            Arrays.fill(ms, i, i + b.batchSize(), (System.nanoTime() - s) / 1e6);
        }
        return new Phase(ms, (System.nanoTime() - t0) / 1e9);
    }

    /** One text in-process, as a caller without a server embeds it; returns milliseconds. */
    static double inProcessOne(BertModel model, BertTokenizer tok, String text) {
        int h = model.config().hiddenSize();
        long s = System.nanoTime();
        Batch b = new DataCollatorWithPadding(tok).collate(List.of(tok.encode(text, null, TRUNCATE_128)));
        float[] e = SentenceEmbeddings.mean(model.forward(b).lastHiddenState().data(), b.attentionMask(), 1, b.seqLen(), h);
        SentenceEmbeddings.normalize(e, 1, h);
        return (System.nanoTime() - s) / 1e6;
    }

    /**
     * {@code clients} threads sending the texts, one per request, until all are answered (each must be a 200):
     * through {@code http} when given, else each thread on a {@link KeepAliveClient} connection of its own.
     */
    static Phase serve(HttpClient http, String url, List<String> texts, int clients) throws Exception {
        AtomicInteger next = new AtomicInteger();
        AtomicInteger failures = new AtomicInteger();
        double[] ms = new double[texts.size()];
        long t0 = System.nanoTime();
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < Math.min(clients, texts.size()); c++) {
            threads.add(Thread.ofPlatform().start(() -> {
                KeepAliveClient lean = null;
                try {
                    if (http == null) lean = new KeepAliveClient(url);
                    for (int i; (i = next.getAndIncrement()) < texts.size(); ) {
                        String body = "{\"inputs\": " + Json.write(texts.get(i)) + ", \"truncate\": true}";
                        HttpRequest req = http == null ? null : HttpRequest.newBuilder(URI.create(url + "/embed")).timeout(Duration.ofSeconds(300))
                                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
                        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
                        long s = System.nanoTime();
                        int status = http == null ? lean.post("/embed", bytes) : http.send(req, HttpResponse.BodyHandlers.ofByteArray()).statusCode();
                        ms[i] = (System.nanoTime() - s) / 1e6;
                        if (status != 200) failures.incrementAndGet();
                    }
                } catch (Exception e) {
                    failures.incrementAndGet();
                } finally {
                    try {
                        if (lean != null) lean.close();
                    } catch (java.io.IOException ignored) { } // the phase is over
                }
            }));
        }
        for (Thread t : threads) t.join();
        if (failures.get() > 0) throw new IllegalStateException(failures.get() + " requests failed");
        return new Phase(ms, (System.nanoTime() - t0) / 1e9);
    }

    static double percentile(double[] v, double p) {
        if (v.length == 0) return Double.NaN;
        double[] s = v.clone();
        Arrays.sort(s);
        return s[Math.min(s.length - 1, (int) Math.ceil(p / 100 * s.length) - 1)];
    }
}
