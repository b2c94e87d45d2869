package dev.bertj.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.bertj.io.OnnxBertConverter;
import dev.bertj.model.BertConfig;
import dev.bertj.model.BertModel;
import dev.bertj.tokenizer.Batch;
import dev.bertj.tokenizer.BertTokenizer;
import dev.bertj.tokenizer.DataCollatorWithPadding;
import dev.bertj.tokenizer.EncodeOptions;
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
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * all-MiniLM-L6-v2 forward pass: bertj (weights converted from the ONNX file by bertj) against
 * ONNX Runtime running that same ONNX file with intra-op threads = cores, in the same run.
 *
 * <ul>
 *   <li>{@code text=synthetic} (default): fixed random ids in full rows of {@code seq} tokens, no padding.</li>
 *   <li>{@code text=real}: {@code batch} SpamAssassin texts (subject and body, as {@code ./bertj data
 *       spamassassin} writes them) drawn with a fixed seed, tokenized and truncated at {@code seq}, padded
 *       to the longest with the attention mask. ONNX Runtime gets that padded batch, as users feed it;
 *       bertj gets the same batch and skips the padding itself. Setup prints the padding fraction.</li>
 * </ul>
 * Setup refuses to time two systems that disagree: on every real token, within 1e-4 for real text (1e-3,
 * as before, for the synthetic rows of random ids).
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
    /** {@code synthetic}: full rows of random ids; {@code real}: padded batches of SpamAssassin texts (see the class comment). */
    @Param({"synthetic"})
    public String text;
    /** Seed of the draw of real texts. */
    static final long TEXT_SEED = 42;

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
        input = switch (text) {
            case "synthetic" -> randomBatch(batch, seq, null);
            case "real" -> realBatch(batch, seq);
            default -> throw new IllegalArgumentException("text must be synthetic or real, not " + text);
        };
        long real = 0;
        for (int m : input.attentionMask()) real += m;
        long positions = (long) input.batchSize() * input.seqLen();
        System.out.printf("input: %s, %d texts padded to %d tokens (seq %d): %d real tokens of %d positions, padding fraction %.3f%n",
                text, input.batchSize(), input.seqLen(), seq, real, positions, 1 - (double) real / positions);
        env = OrtEnvironment.getEnvironment();
        OrtSession.SessionOptions o = new OrtSession.SessionOptions();
        o.setIntraOpNumThreads(Runtime.getRuntime().availableProcessors());
        session = env.createSession(file.toString(), o);
        long[] shape = {input.batchSize(), input.seqLen()};
        ids = OnnxTensor.createTensor(env, LongBuffer.wrap(longs(input.inputIds())), shape);
        mask = OnnxTensor.createTensor(env, LongBuffer.wrap(longs(input.attentionMask())), shape);
        types = OnnxTensor.createTensor(env, LongBuffer.wrap(longs(input.tokenTypeIds())), shape);
        // Same model, same answer: refuse to time two systems that disagree.
        float[] ours = bert.forward(input).lastHiddenState().data();
        try (OrtSession.Result r = session.run(Map.of("input_ids", ids, "attention_mask", mask, "token_type_ids", types))) {
            java.nio.FloatBuffer theirs = ((OnnxTensor) r.get(0)).getFloatBuffer();
            double worst = 0, tolerance = text.equals("real") ? 1e-4 : 1e-3;
            int h = bert.config().hiddenSize();
            int[] m = input.attentionMask();
            for (int i = 0; i < ours.length; i++) {
                if (m[i / h] != 0) worst = Math.max(worst, Math.abs(ours[i] - theirs.get(i)));
            }
            if (worst > tolerance) throw new IllegalStateException("bertj and ONNX Runtime differ by " + worst + " on " + model + ", " + text + " text");
            System.out.println("bertj vs ONNX Runtime on " + model + ", " + text + " text: max abs diff " + worst + " over every real token");
        }
    }

    /**
     * {@code batch} texts drawn without replacement with {@link #TEXT_SEED}, truncated at {@code seq}
     * tokens, padded to the longest: what a user hands ONNX Runtime.
     */
    static Batch realBatch(int batch, int seq) throws Exception {
        List<String> all = Corpus.messageTexts();
        if (all.size() < batch) throw new IllegalStateException("the corpus holds " + all.size() + " texts, fewer than " + batch);
        Random r = new Random(TEXT_SEED);
        List<String> picked = new ArrayList<>(all);
        for (int i = 0; i < batch; i++) Collections.swap(picked, i, i + r.nextInt(picked.size() - i)); // partial Fisher-Yates
        BertTokenizer tok = BertTokenizer.fromPretrained(Corpus.tokenizerJson());
        EncodeOptions o = EncodeOptions.builder().truncation(EncodeOptions.Truncation.LONGEST_FIRST).maxLength(seq).build();
        return new DataCollatorWithPadding(tok).collate(tok.encodeBatch(picked.subList(0, batch), o));
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
