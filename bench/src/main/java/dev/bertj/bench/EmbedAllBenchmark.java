package dev.bertj.bench;

import dev.bertj.langchain4j.BertjEmbeddingModel;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What a langchain4j application sees: {@code embedAll} of real SpamAssassin e-mails (whole, as
 * stored documents arrive) and {@code embed} of one text, with {@link BertjEmbeddingModel#allMiniLmL6V2()}
 * and langchain4j's own {@link AllMiniLmL6V2EmbeddingModel} (ONNX Runtime, HF tokenizers via DJL) in the
 * same JMH run. Both truncate at 128 tokens, so they do the same work; setup checks they agree.
 * <ul>
 *   <li>{@code *EmbedAll}: {@code texts} e-mails per operation (single shot: one operation is seconds long).</li>
 *   <li>{@code *Query}: one short real text (an e-mail's subject), the latency of a search query.</li>
 *   <li>{@code *Document}: one whole e-mail (128 tokens once truncated), the latency of one document.</li>
 * </ul>
 * The single-text benchmarks warm up for 6 x 5 s: after 2 x 2 s C2 was still compiling bertj's paths
 * (one document measured 39.7 ms then, 23-30 ms after the longer warm-up; ONNX Runtime is native).
 * {@code java -Dbertj.cache=DIR -jar bench/target/benchmarks.jar EmbedAllBenchmark} (the default
 * model is converted once into bertj's cache from the MiniLM jar inside benchmarks.jar).
 */
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx3g"})
public class EmbedAllBenchmark {
    @Param("1000")
    public int texts;

    private List<TextSegment> segments;
    private TextSegment query;
    private TextSegment document;
    private BertjEmbeddingModel bertj;
    private AllMiniLmL6V2EmbeddingModel langchain4j;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        System.setProperty("ai.djl.offline", "true");
        List<String> emails = Corpus.firstEmails(texts);
        segments = emails.stream().map(TextSegment::from).toList();
        document = segments.get(1);
        query = TextSegment.from(emails.get(1).lines().filter(l -> l.startsWith("Subject:")).findFirst().orElse("Subject: hello").substring(8).trim());
        bertj = BertjEmbeddingModel.allMiniLmL6V2();
        langchain4j = new AllMiniLmL6V2EmbeddingModel();
        // The two must compute the same thing for the timing to mean anything.
        List<TextSegment> check = segments.subList(0, Math.min(32, segments.size()));
        List<Embedding> a = bertj.embedAll(check).content(), b = langchain4j.embedAll(check).content();
        float max = 0;
        for (int i = 0; i < check.size(); i++) {
            float[] x = a.get(i).vector(), y = b.get(i).vector();
            for (int j = 0; j < x.length; j++) max = Math.max(max, Math.abs(x[j] - y[j]));
        }
        System.out.printf("%nEmbedAllBenchmark: %d e-mails; bertj vs langchain4j on the first %d: max abs diff %.3g%n", texts, check.size(), max);
        if (max > 1e-5f) throw new IllegalStateException("bertj and langchain4j disagree by " + max);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        bertj.close();
    }

    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Warmup(iterations = 1)
    @Measurement(iterations = 3)
    public List<Embedding> bertjEmbedAll() {
        return bertj.embedAll(segments).content();
    }

    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Warmup(iterations = 1)
    @Measurement(iterations = 3)
    public List<Embedding> langchain4jEmbedAll() {
        return langchain4j.embedAll(segments).content();
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Warmup(iterations = 6, time = 5)
    @Measurement(iterations = 3, time = 2)
    public Embedding bertjQuery() {
        return bertj.embed(query).content();
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Warmup(iterations = 6, time = 5)
    @Measurement(iterations = 3, time = 2)
    public Embedding langchain4jQuery() {
        return langchain4j.embed(query).content();
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Warmup(iterations = 6, time = 5)
    @Measurement(iterations = 3, time = 2)
    public Embedding bertjDocument() {
        return bertj.embed(document).content();
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Warmup(iterations = 6, time = 5)
    @Measurement(iterations = 3, time = 2)
    public Embedding langchain4jDocument() {
        return langchain4j.embed(document).content();
    }
}
