package dev.bertj.bench;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.bertj.tokenizer.BertTokenizer;
import dev.bertj.tokenizer.EncodeOptions;
import dev.bertj.tokenizer.Encoding;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Tokenizer throughput on real email text: bertj against Hugging Face tokenizers (Rust, through
 * DJL), in the same run. One operation tokenizes exactly 1 MiB of UTF-8, so ops/s is MiB/s; the
 * secondary result {@code :tokens} counts the tokens made (special tokens included), so its ops/s is
 * tokens/s. Setup prints the tokens per MiB.
 *
 * <ul>
 *   <li>{@code bertj}, {@code huggingface}: one thread, one email per call, no truncation or padding.</li>
 *   <li>{@code bertjBatch}, {@code huggingfaceBatch}: the whole MiB as one batch, spread over all cores.</li>
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx2g"})
public class TokenizerBenchmark {
    /** Bytes of UTF-8 per operation. */
    public static final int BYTES = 1 << 20;

    private List<String> texts;
    private BertTokenizer bertj;
    private HuggingFaceTokenizer hf;

    /** Tokens made during an iteration: reported as tokens/s beside the MiB/s. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Tokens {
        public long tokens;

        @Setup(Level.Iteration)
        public void reset() {
            tokens = 0;
        }
    }

    @Setup(Level.Trial)
    public void setup() throws Exception {
        texts = Corpus.emails(BYTES);
        Path json = Corpus.tokenizerJson();
        bertj = BertTokenizer.fromPretrained(json);
        // DJL would otherwise apply tokenizer.json's own truncation (128) and padding.
        hf = HuggingFaceTokenizer.newInstance(json, Map.of("truncation", "false", "padding", "false", "addSpecialTokens", "true"));
        long n = 0;
        for (String t : texts) n += bertj.encode(t).length();
        System.out.printf("%d texts, %d tokens per MiB (%.2f bytes per token)%n", texts.size(), n, (double) BYTES / n);
    }

    @TearDown(Level.Trial)
    public void close() {
        hf.close();
    }

    @Benchmark
    public void bertj(Blackhole bh, Tokens count) {
        long n = 0;
        for (String t : texts) {
            Encoding e = bertj.encode(t);
            n += e.length();
            bh.consume(e);
        }
        count.tokens += n;
    }

    @Benchmark
    public void huggingface(Blackhole bh, Tokens count) {
        long n = 0;
        for (String t : texts) {
            ai.djl.huggingface.tokenizers.Encoding e = hf.encode(t);
            n += e.getIds().length;
            bh.consume(e);
        }
        count.tokens += n;
    }

    @Benchmark
    public void bertjBatch(Blackhole bh, Tokens count) {
        List<Encoding> out = bertj.encodeBatch(texts, EncodeOptions.NONE);
        long n = 0;
        for (Encoding e : out) n += e.length();
        count.tokens += n;
        bh.consume(out);
    }

    @Benchmark
    public void huggingfaceBatch(Blackhole bh, Tokens count) {
        ai.djl.huggingface.tokenizers.Encoding[] out = hf.batchEncode(texts);
        long n = 0;
        for (ai.djl.huggingface.tokenizers.Encoding e : out) n += e.getIds().length;
        count.tokens += n;
        bh.consume(out);
    }
}
