package dev.bertj.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.bertj.io.OnnxBertConverter;
import dev.bertj.model.BertConfig;
import dev.bertj.model.BertModel;
import dev.bertj.tokenizer.Batch;
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

import java.io.InputStream;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * all-MiniLM-L6-v2 forward pass: bertj (weights converted from the ONNX file by bertj) against
 * ONNX Runtime running that same ONNX file with intra-op threads = cores, in the same run.
 * Inputs are fixed random ids with a full attention mask.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 3, time = 10)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx4g"})
public class ForwardBenchmark {
    @Param({"32"})
    public int batch;
    @Param({"128"})
    public int seq;
    /**
     * {@code default}: all-MiniLM-L6-v2 from the model jar. Otherwise a directory made by
     * {@code scripts/make_bench_model.py} (model.onnx for ONNX Runtime, model.safetensors and
     * config.json for bertj, the same random weights), e.g. the 12-layer bge-small shape.
     */
    @Param({"default"})
    public String model;

    private BertModel bert;
    private Batch input;
    private OrtEnvironment env;
    private OrtSession session;
    private OnnxTensor ids, mask, types;

    /** The MiniLM ONNX file from the model jar on the classpath, copied to a temp file. */
    static Path onnx() throws Exception {
        Path tmp = Files.createTempFile("bertj-bench", ".onnx");
        tmp.toFile().deleteOnExit();
        try (InputStream in = ForwardBenchmark.class.getClassLoader().getResourceAsStream("all-minilm-l6-v2.onnx")) {
            if (in == null) throw new IllegalStateException("all-minilm-l6-v2.onnx is not on the classpath");
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
        }
        return tmp;
    }

    static Batch randomBatch(int batch, int seq, int[] labels) {
        Random r = new Random(42);
        int[] tokenIds = new int[batch * seq], maskArr = new int[batch * seq];
        for (int i = 0; i < tokenIds.length; i++) {
            tokenIds[i] = i % seq == 0 ? 101 : 1000 + r.nextInt(28000);
            maskArr[i] = 1;
        }
        return new Batch(batch, seq, tokenIds, new int[batch * seq], maskArr, labels);
    }

    @Setup(Level.Trial)
    public void setup() throws Exception {
        Path file;
        if (model.equals("default")) {
            file = onnx();
            OnnxBertConverter.Converted c = OnnxBertConverter.convert(file, OnnxBertConverter.Progress.NONE);
            bert = BertModel.of(BertConfig.of(c.config()), c.weights(), 42);
        } else {
            Path dir = Path.of(model);
            file = dir.resolve("model.onnx");
            if (!Files.isRegularFile(file)) {
                throw new IllegalStateException(file + " is missing: make it with /usr/bin/python3 scripts/make_bench_model.py --out " + dir);
            }
            bert = BertModel.fromPretrained(dir);
        }
        input = randomBatch(batch, seq, null);
        env = OrtEnvironment.getEnvironment();
        OrtSession.SessionOptions o = new OrtSession.SessionOptions();
        o.setIntraOpNumThreads(Runtime.getRuntime().availableProcessors());
        session = env.createSession(file.toString(), o);
        long[] shape = {batch, seq};
        ids = OnnxTensor.createTensor(env, LongBuffer.wrap(longs(input.inputIds())), shape);
        mask = OnnxTensor.createTensor(env, LongBuffer.wrap(longs(input.attentionMask())), shape);
        types = OnnxTensor.createTensor(env, LongBuffer.wrap(longs(input.tokenTypeIds())), shape);
        // Same model, same answer: refuse to time two systems that disagree.
        float[] ours = bert.forward(input).lastHiddenState().data();
        try (OrtSession.Result r = session.run(Map.of("input_ids", ids, "attention_mask", mask, "token_type_ids", types))) {
            java.nio.FloatBuffer theirs = ((OnnxTensor) r.get(0)).getFloatBuffer();
            double worst = 0;
            for (int i = 0; i < ours.length; i++) worst = Math.max(worst, Math.abs(ours[i] - theirs.get(i)));
            if (worst > 1e-3) throw new IllegalStateException("bertj and ONNX Runtime differ by " + worst + " on " + model);
            System.out.println("bertj vs ONNX Runtime on " + model + ": max abs diff " + worst);
        }
    }

    @TearDown(Level.Trial)
    public void close() throws Exception {
        ids.close();
        mask.close();
        types.close();
        session.close();
    }

    static long[] longs(int[] a) {
        long[] r = new long[a.length];
        for (int i = 0; i < a.length; i++) r[i] = a[i];
        return r;
    }

    @Benchmark
    public Object bertj() {
        return bert.forward(input).lastHiddenState();
    }

    @Benchmark
    public Object onnxruntime() throws Exception {
        try (OrtSession.Result r = session.run(Map.of("input_ids", ids, "attention_mask", mask, "token_type_ids", types))) {
            return ((OnnxTensor) r.get(0)).getFloatBuffer().get(0);
        }
    }
}
