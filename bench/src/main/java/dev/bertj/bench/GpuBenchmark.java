package dev.bertj.bench;

import dev.bertj.cuda.Cuda;
import dev.bertj.cuda.CudaBackend;
import dev.bertj.cuda.Precision;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * BERT-base on a CUDA GPU: bertj's GPU backend and PyTorch eager on the same device, in one JMH run.
 * Shapes are bert-base-uncased's config.json (random weights, 2 labels); batch 32 x 128 tokens.
 * {@code forward} is BertModel inference with its outputs copied to the host; {@code train} is one
 * step of BertForSequenceClassification (dropout on): forward, backward, AdamW, gradients zeroed.
 * The peer is {@code bench/scripts/torch_peer.py}, a persistent Python process each call asks for one
 * forward or step over a pipe (the round trip is tens of microseconds against steps of milliseconds).
 * Throughput in sequences/s is {@code batch / score}.
 *
 * <p>Run from the repository root on a machine with a GPU, e.g.
 * {@code java -jar bench/target/benchmarks.jar GpuBenchmark}; {@code -Dbertj.python=...} picks the
 * Python with torch and transformers. Without a device the setup fails with the reason.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 5)
@Measurement(iterations = 5, time = 5)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx8g"})
public class GpuBenchmark {
    @Param({"fp32", "tf32", "bf16"})
    public String precision;
    @Param({"32"})
    public int batch;
    @Param({"128"})
    public int seq;

    private CudaBackend backend;
    private BertForSequenceClassification model;
    private AdamW optimizer;
    private Gradients grads;
    private Batch input;
    private long step;
    private Process torch;
    private PrintStream toTorch;
    private BufferedReader fromTorch;

    /** bert-base-uncased's config.json (the architecture fields). */
    static BertConfig bertBase() {
        return BertConfig.of(Map.ofEntries(Map.entry("vocab_size", 30522L), Map.entry("hidden_size", 768L),
                Map.entry("num_hidden_layers", 12L), Map.entry("num_attention_heads", 12L), Map.entry("intermediate_size", 3072L),
                Map.entry("hidden_act", "gelu"), Map.entry("hidden_dropout_prob", 0.1), Map.entry("attention_probs_dropout_prob", 0.1),
                Map.entry("max_position_embeddings", 512L), Map.entry("type_vocab_size", 2L), Map.entry("initializer_range", 0.02),
                Map.entry("layer_norm_eps", 1e-12))).withLabels(List.of("LABEL_0", "LABEL_1"));
    }

    @Setup(Level.Trial)
    public void setup(BenchmarkParams params) throws Exception {
        int[] labels = new int[batch];
        for (int i = 0; i < batch; i++) labels[i] = i % 2;
        if (params.getBenchmark().endsWith(".torchForward") || params.getBenchmark().endsWith(".torchTrain")) {
            startTorch();
            return;
        }
        Cuda.Status s = Cuda.status();
        if (!s.available()) throw new IllegalStateException("GpuBenchmark needs a CUDA device: " + s.reason());
        backend = CudaBackend.open(0, Precision.parse(precision));
        model = BertForSequenceClassification.of(bertBase(), Map.of(), 2, 42).to(backend);
        optimizer = new AdamW(model.parameters(), 0.01, AdamW.hfNoDecay(), backend);
        grads = new Gradients(backend);
        input = ForwardBenchmark.randomBatch(batch, seq, labels);
    }

    private void startTorch() throws IOException {
        Path script = Path.of(System.getProperty("bertj.torch.script", "bench/scripts/torch_peer.py"));
        if (!Files.isRegularFile(script)) throw new IllegalStateException(script.toAbsolutePath() + " is missing: run from the repository root");
        ProcessBuilder pb = new ProcessBuilder(System.getProperty("bertj.python", "python3"), script.toString(), "--precision", precision,
                "--batch", Integer.toString(batch), "--seq", Integer.toString(seq));
        pb.redirectError(ProcessBuilder.Redirect.INHERIT);
        torch = pb.start();
        toTorch = new PrintStream(torch.getOutputStream(), true, StandardCharsets.UTF_8);
        fromTorch = new BufferedReader(new InputStreamReader(torch.getInputStream(), StandardCharsets.UTF_8));
        String ready = fromTorch.readLine();
        if (!"ready".equals(ready)) throw new IllegalStateException("the PyTorch peer did not start (said " + ready + "); see its stderr above");
    }

    private String ask(String command) throws IOException {
        toTorch.println(command);
        String reply = fromTorch.readLine();
        if (reply == null || !reply.startsWith("ok")) throw new IllegalStateException("the PyTorch peer answered " + reply + " to " + command);
        return reply;
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        if (torch != null) {
            toTorch.println("quit");
            torch.waitFor(30, TimeUnit.SECONDS);
            torch.destroy();
        }
        if (backend != null) backend.close();
    }

    @Benchmark
    public float bertjForward() {
        return model.bert().forward(input).lastHiddenState().data()[0];
    }

    @Benchmark
    public float bertjTrain() {
        float loss = model.trainStep(input, new TrainMode(42, step++, true), grads).loss();
        optimizer.step(grads, 2e-5);
        grads.zero();
        backend.synchronize();
        return loss;
    }

    @Benchmark
    public String torchForward() throws IOException {
        return ask("forward");
    }

    @Benchmark
    public String torchTrain() throws IOException {
        return ask("train");
    }
}
