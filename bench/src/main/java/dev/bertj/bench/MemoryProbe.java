package dev.bertj.bench;

import dev.bertj.io.OnnxBertConverter;
import dev.bertj.model.BertConfig;
import dev.bertj.model.BertForSequenceClassification;
import dev.bertj.model.BertModel;
import dev.bertj.model.TrainMode;
import dev.bertj.nn.Gradients;
import dev.bertj.tokenizer.Batch;
import dev.bertj.train.AdamW;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Peak memory of MiniLM inference or fine-tuning at batch x seq, for bench/RESULTS.md (not a JMH
 * benchmark: peaks need one process doing one thing). Reports the weights' size, the heap in use
 * after a full collection once the steps are done (what stays: weights, workspaces, optimizer
 * state), the heap pools' peak usage, and the process's peak RSS (VmHWM).
 * <pre>
 * java --add-modules jdk.incubator.vector -Xmx2g -cp bench/target/benchmarks.jar dev.bertj.bench.MemoryProbe train 32 128
 * java --add-modules jdk.incubator.vector -Xmx6g -XX:+UseParallelGC -cp bench/target/benchmarks.jar dev.bertj.bench.MemoryProbe train 32 128 DIR
 * </pre>
 * {@code -XX:+UseParallelGC} is what {@code ./bertj} runs with. Under G1, every array over half a region is
 * "humongous" and rounded up to whole regions, so the same live data reads several hundred MB larger,
 * and BERT-base fine-tuning at 32 x 128 no longer fits 6 GB (OutOfMemoryError at the first AdamW step).
 * With DIR (a model directory: bert-base-uncased's, or one from scripts/make_bench_model.py) that
 * model is measured instead of MiniLM. {@code mixed N} runs N MiniLM inference batches of seeded random shapes
 * (1 x 3 up to 32 x 16 and 2 x 512) and prints the retained heap every 100 batches.
 */
public final class MemoryProbe {
    private MemoryProbe() { }

    public static void main(String[] args) throws Exception {
        String what = args.length > 0 ? args[0] : "forward";
        int batch = args.length > 1 ? Integer.parseInt(args[1]) : 32, seq = args.length > 2 ? Integer.parseInt(args[2]) : 128;
        System.gc();
        long before = usedAfterGc();
        if (what.equals("mixed")) {
            mixed(batch, before);
            return;
        }
        if (args.length > 3) {
            java.nio.file.Path dir = java.nio.file.Path.of(args[3]);
            Batch in = ForwardBenchmark.randomBatch(batch, seq, what.equals("train") ? new int[batch] : null);
            long weights;
            if (what.equals("train")) {
                BertForSequenceClassification m = BertForSequenceClassification.fromPretrained(dir, 2, 42);
                weights = m.parameters().values().stream().mapToLong(t -> 4L * t.size()).sum();
                AdamW opt = new AdamW(m.parameters(), 0.01, AdamW.hfNoDecay());
                Gradients g = new Gradients();
                for (int i = 0; i < 3; i++) {
                    m.trainStep(in, new TrainMode(42, i, true), g);
                    opt.step(g, 2e-5);
                    g.zero();
                }
            } else {
                BertModel m = BertModel.fromPretrained(dir);
                weights = m.parameters().values().stream().mapToLong(t -> 4L * t.size()).sum();
                for (int i = 0; i < 5; i++) m.forward(in);
            }
            report(what + " " + dir.getFileName(), batch, seq, weights, before);
            return;
        }
        OnnxBertConverter.Converted c = OnnxBertConverter.convert(ForwardBenchmark.onnx(), OnnxBertConverter.Progress.NONE);
        long weights = c.weights().values().stream().mapToLong(t -> 4L * t.size()).sum();
        if (what.equals("train")) {
            BertConfig config = BertConfig.of(c.config()).withLabels(List.of("ham", "spam"));
            BertForSequenceClassification m = BertForSequenceClassification.of(config, c.weights(), 2, 42);
            AdamW opt = new AdamW(m.parameters(), 0.01, AdamW.hfNoDecay());
            Gradients g = new Gradients();
            int[] labels = new int[batch];
            Batch in = ForwardBenchmark.randomBatch(batch, seq, labels);
            for (int i = 0; i < 5; i++) {
                m.trainStep(in, new TrainMode(42, i, true), g);
                opt.step(g.asMap(), 2e-5);
                g.zero();
            }
            report(what, batch, seq, weights, before);
        } else {
            BertModel m = BertModel.of(BertConfig.of(c.config()), c.weights(), 42);
            Batch in = ForwardBenchmark.randomBatch(batch, seq, null);
            for (int i = 0; i < 5; i++) m.forward(in);
            report(what, batch, seq, weights, before);
        }
    }

    /**
     * A hostile inference load on MiniLM: {@code count} batches whose shapes are drawn (seeded) from very
     * short to very long, printing the heap retained after a full GC every 100 batches. The per-thread
     * arena frees the buffer sizes the last pass did not ask for, so the heap must level off, not grow
     * step by step.
     */
    private static void mixed(int count, long before) throws Exception {
        OnnxBertConverter.Converted c = OnnxBertConverter.convert(ForwardBenchmark.onnx(), OnnxBertConverter.Progress.NONE);
        BertModel m = BertModel.of(BertConfig.of(c.config()), c.weights(), 42);
        int[][] shapes = {{1, 8}, {1, 512}, {32, 16}, {8, 256}, {2, 512}, {16, 64}, {4, 128}, {1, 3}};
        java.util.Random r = new java.util.Random(7);
        long t0 = System.nanoTime();
        for (int i = 1; i <= count; i++) {
            int[] sh = shapes[r.nextInt(shapes.length)];
            m.forward(ForwardBenchmark.randomBatch(sh[0], sh[1], null));
            if (i % 100 == 0) {
                System.out.printf("mixed: after %d batches heap after GC %.0f MB (%.0f MB before the model), %.0f s%n", i,
                        usedAfterGc() / 1e6, before / 1e6, (System.nanoTime() - t0) / 1e9);
            }
        }
        report("mixed x" + count, 0, 0, c.weights().values().stream().mapToLong(t -> 4L * t.size()).sum(), before);
    }

    private static void report(String what, int batch, int seq, long weights, long before) throws Exception {
        long peak = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP) peak += p.getPeakUsage().getUsed();
        }
        long retained = usedAfterGc();
        String hwm = Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("VmHWM")).findFirst().orElse("VmHWM: ?");
        System.out.printf("%s %dx%d: weights %.0f MB; heap after GC: %.0f MB before the model, %.0f MB after the steps "
                        + "(weights + workspaces + state); heap pools' peak %.0f MB; max heap %.0f MB; %s%n",
                what, batch, seq, weights / 1e6, before / 1e6, retained / 1e6, peak / 1e6,
                Runtime.getRuntime().maxMemory() / 1e6, hwm.replaceAll("\\s+", " "));
    }

    private static long usedAfterGc() {
        System.gc();
        return Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
    }
}
