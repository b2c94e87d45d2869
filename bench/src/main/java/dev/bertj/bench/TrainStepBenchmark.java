package dev.bertj.bench;

import dev.bertj.io.OnnxBertConverter;
import dev.bertj.model.BertConfig;
import dev.bertj.model.BertForSequenceClassification;
import dev.bertj.model.TrainMode;
import dev.bertj.nn.Gradients;
import dev.bertj.tokenizer.Batch;
import dev.bertj.train.AdamW;
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
import org.openjdk.jmh.annotations.Warmup;

import java.util.List;
import java.util.concurrent.TimeUnit;

/** One MiniLM training step (forward, backward, AdamW) with a sequence-classification head. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 10)
@Measurement(iterations = 3, time = 20)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx4g"})
public class TrainStepBenchmark {
    @Param({"32"})
    public int batch;
    @Param({"128"})
    public int seq;
    /**
     * {@code synthetic}: full rows of random ids; {@code real}: {@link ForwardBenchmark}'s padded batch of
     * SpamAssassin texts (the same draw), which trains padding-free.
     */
    @Param({"synthetic"})
    public String text;

    private BertForSequenceClassification model;
    private AdamW optimizer;
    private Gradients grads;
    private Batch input;
    private long step;

    @Setup(Level.Trial)
    public void setup() throws Exception {
        OnnxBertConverter.Converted c = OnnxBertConverter.convert(ForwardBenchmark.onnx(), OnnxBertConverter.Progress.NONE);
        BertConfig config = BertConfig.of(c.config()).withLabels(List.of("ham", "spam"));
        model = BertForSequenceClassification.of(config, c.weights(), 2, 42);
        optimizer = new AdamW(model.parameters(), 0.01, AdamW.hfNoDecay());
        grads = new Gradients();
        int[] labels = new int[batch];
        for (int i = 0; i < batch; i++) labels[i] = i % 2;
        input = switch (text) {
            case "synthetic" -> ForwardBenchmark.randomBatch(batch, seq, labels);
            case "real" -> {
                Batch b = ForwardBenchmark.realBatch(batch, seq);
                yield new Batch(b.batchSize(), b.seqLen(), b.inputIds(), b.tokenTypeIds(), b.attentionMask(), labels);
            }
            default -> throw new IllegalArgumentException("text must be synthetic or real, not " + text);
        };
    }

    @Benchmark
    public float bertj() {
        float loss = model.trainStep(input, new TrainMode(42, step++, true), grads).loss();
        optimizer.step(grads.asMap(), 2e-5);
        grads.zero();
        return loss;
    }
}
