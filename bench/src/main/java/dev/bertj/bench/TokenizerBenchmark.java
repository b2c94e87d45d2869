package dev.bertj.bench;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.bertj.tokenizer.BertTokenizer;
import dev.bertj.tokenizer.EncodeOptions;
import dev.bertj.tokenizer.Encoding;
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
 * DJL), in the same run. One operation tokenizes exactly 1 MiB of UTF-8, so ops/s is MiB/s.
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

    @Setup(Level.Trial)
    public void setup() throws Exception {
        texts = Corpus.emails(BYTES);
        Path json = Corpus.tokenizerJson();
        bertj = BertTokenizer.fromPretrained(json);
        // DJL would otherwise apply tokenizer.json's own truncation (128) and padding.
        hf = HuggingFaceTokenizer.newInstance(json, Map.of("truncation", "false", "padding", "false", "addSpecialTokens", "true"));
    }

    @TearDown(Level.Trial)
    public void close() {
        hf.close();
    }

    @Benchmark
    public void bertj(Blackhole bh) {
        for (String t : texts) bh.consume(bertj.encode(t));
    }

    @Benchmark
    public void huggingface(Blackhole bh) {
        for (String t : texts) bh.consume(hf.encode(t));
    }

    @Benchmark
    public void bertjBatch(Blackhole bh) {
        List<Encoding> out = bertj.encodeBatch(texts, EncodeOptions.NONE);
        bh.consume(out);
    }

    @Benchmark
    public void huggingfaceBatch(Blackhole bh) {
        bh.consume(hf.batchEncode(texts));
    }
}
