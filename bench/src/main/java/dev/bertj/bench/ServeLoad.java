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
 * The peer, in the same process and run: the same texts embedded in-process, in batches of 32 for
 * throughput and one at a time for latency. Real SpamAssassin texts (subject and body), truncated at
 * 128 tokens; one text per request ({@code /embed}, {@code "truncate": true}).
 * <pre>
 * java --add-modules jdk.incubator.vector -cp bench/target/benchmarks.jar dev.bertj.bench.ServeLoad MODEL_DIR [TEXTS] [SECONDS]
 * </pre>
 * MODEL_DIR is a model directory (./bertj makes the default one in ~/.cache/bertj/models/default);
 * TEXTS (default 512) texts are read from the corpus (-Dbertj.corpus=FILE.jsonl, else the cache's);
 * each phase stops after its request count or SECONDS (default 60), whichever comes first.
 */
public final class ServeLoad {
    private ServeLoad() { }

    /** One phase's numbers. */
    record Result(String what, int clients, int requests, double seconds, double p50Ms, double p99Ms) {
        double perSecond() {
            return requests / seconds;
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
        List<Result> results = new ArrayList<>();
        try (BertServer server = BertServer.start(service, ServerConfig.defaults().withPort(0))) {
            System.out.printf("%d texts, %d cores, Java %s, server %s%n", texts.size(), Runtime.getRuntime().availableProcessors(),
                    System.getProperty("java.version"), server.url());
            // Warm-up of both paths (JIT, arenas), not measured.
            inProcessBatches(model, tok, texts, 32, limit);
            serve(server.url(), texts, 8, texts.size(), limit);
            results.add(inProcessBatches(model, tok, texts, 32, limit));
            results.add(inProcessSingle(model, tok, texts, texts.size() / 2, limit));
            for (int clients : new int[] {1, 8, 64}) {
                results.add(serve(server.url(), texts, clients, clients == 1 ? texts.size() / 2 : texts.size() * 2, limit));
            }
            // The peers again at the end: the machine is shared, so this shows how far the speed drifted.
            results.add(inProcessBatches(model, tok, texts, 32, limit));
            results.add(inProcessSingle(model, tok, texts, texts.size() / 2, limit));
        }
        System.out.println();
        System.out.println("| what | clients | requests | seconds | texts/s | p50 ms | p99 ms |");
        System.out.println("|---|---|---|---|---|---|---|");
        for (Result r : results) {
            System.out.printf("| %s | %s | %d | %.1f | %.1f | %s | %s |%n", r.what(), r.clients() == 0 ? "-" : r.clients(), r.requests(), r.seconds(),
                    r.perSecond(), Double.isNaN(r.p50Ms()) ? "-" : String.format("%.2f", r.p50Ms()), Double.isNaN(r.p99Ms()) ? "-" : String.format("%.2f", r.p99Ms()));
        }
        double inBatch = (results.get(0).perSecond() + results.get(results.size() - 2).perSecond()) / 2;
        double single = (results.get(1).p50Ms() + results.getLast().p50Ms()) / 2;
        Result c1 = results.get(2), c64 = results.get(4);
        System.out.printf("%n64 clients: %.0f%% of in-process batch-32 throughput (goal >= 85%%)%n", 100 * c64.perSecond() / inBatch);
        System.out.printf("1 client: p50 %.2f ms vs in-process %.2f ms, %+.2f ms added (goal <= 2 ms)%n", c1.p50Ms(), single, c1.p50Ms() - single);
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

    /** The texts in order, in batches of {@code batch}: tokenize, pad, forward, mean-pool, normalize. */
    static Result inProcessBatches(BertModel model, BertTokenizer tok, List<String> texts, int batch, double limit) {
        DataCollatorWithPadding collator = new DataCollatorWithPadding(tok);
        int h = model.config().hiddenSize(), done = 0;
        long t0 = System.nanoTime();
        for (int i = 0; i < texts.size() && (System.nanoTime() - t0) / 1e9 < limit; i += batch) {
            Batch b = collator.collate(tok.encodeBatch(texts.subList(i, Math.min(texts.size(), i + batch)), TRUNCATE_128));
            float[] e = SentenceEmbeddings.mean(model.forward(b).lastHiddenState().data(), b.attentionMask(), b.batchSize(), b.seqLen(), h);
            SentenceEmbeddings.normalize(e, b.batchSize(), h);
            done += b.batchSize();
        }
        return new Result("in-process, batches of " + batch, 0, done, (System.nanoTime() - t0) / 1e9, Double.NaN, Double.NaN);
    }

    /** One text at a time, in-process: the latency a server adds to. */
    static Result inProcessSingle(BertModel model, BertTokenizer tok, List<String> texts, int count, double limit) {
        DataCollatorWithPadding collator = new DataCollatorWithPadding(tok);
        int h = model.config().hiddenSize();
        double[] ms = new double[count];
        int done = 0;
        long t0 = System.nanoTime();
        for (; done < count && (System.nanoTime() - t0) / 1e9 < limit; done++) {
            long s = System.nanoTime();
            Batch b = collator.collate(List.of(tok.encode(texts.get(done % texts.size()), null, TRUNCATE_128)));
            float[] e = SentenceEmbeddings.mean(model.forward(b).lastHiddenState().data(), b.attentionMask(), 1, b.seqLen(), h);
            SentenceEmbeddings.normalize(e, 1, h);
            ms[done] = (System.nanoTime() - s) / 1e6;
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        double[] got = Arrays.copyOf(ms, done);
        return new Result("in-process, one text at a time", 0, done, secs, percentile(got, 50), percentile(got, 99));
    }

    /** {@code clients} threads sending one text per request until {@code total} requests or {@code limit} seconds. */
    static Result serve(String url, List<String> texts, int clients, int total, double limit) throws Exception {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
        AtomicInteger next = new AtomicInteger();
        AtomicInteger failures = new AtomicInteger();
        List<double[]> perClient = new ArrayList<>();
        long t0 = System.nanoTime();
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            double[] ms = new double[total + 1]; // [0] counts, latencies from [1]
            perClient.add(ms);
            threads.add(Thread.ofPlatform().start(() -> {
                while ((System.nanoTime() - t0) / 1e9 < limit) {
                    int i = next.getAndIncrement();
                    if (i >= total) break;
                    String body = "{\"inputs\": " + Json.write(texts.get(i % texts.size())) + ", \"truncate\": true}";
                    HttpRequest req = HttpRequest.newBuilder(URI.create(url + "/embed")).timeout(Duration.ofSeconds(120))
                            .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
                    long s = System.nanoTime();
                    try {
                        HttpResponse<byte[]> r = http.send(req, HttpResponse.BodyHandlers.ofByteArray());
                        if (r.statusCode() != 200) failures.incrementAndGet();
                    } catch (Exception e) {
                        failures.incrementAndGet();
                    }
                    ms[1 + (int) ms[0]++] = (System.nanoTime() - s) / 1e6;
                }
            }));
        }
        for (Thread t : threads) t.join();
        double secs = (System.nanoTime() - t0) / 1e9;
        if (failures.get() > 0) throw new IllegalStateException(failures.get() + " requests failed");
        double[] all = perClient.stream().flatMapToDouble(ms -> Arrays.stream(ms, 1, 1 + (int) ms[0])).toArray();
        return new Result("server /embed, one text per request", clients, all.length, secs, percentile(all, 50), percentile(all, 99));
    }

    static double percentile(double[] v, double p) {
        if (v.length == 0) return Double.NaN;
        double[] s = v.clone();
        Arrays.sort(s);
        return s[Math.min(s.length - 1, (int) Math.ceil(p / 100 * s.length) - 1)];
    }
}
