package dev.bertj.train;

import dev.bertj.model.ClassifierOutput;
import dev.bertj.model.TrainMode;
import dev.bertj.nn.Gradients;
import dev.bertj.tokenizer.Batch;
import dev.bertj.tokenizer.BertTokenizer;
import dev.bertj.tokenizer.DataCollatorWithPadding;
import dev.bertj.tokenizer.EncodeOptions;
import dev.bertj.tokenizer.Encoding;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Random;

/**
 * Fine-tunes a {@link TaskModel} as HF's Trainer does by default: AdamW (no decay on biases and
 * LayerNorm weights), linear warmup then decay, global-norm clipping, gradient accumulation,
 * seeded shuffling each epoch, and dynamic padding per batch.
 *
 * <p>Determinism: the same seed and thread count give a bit-identical loss curve (dropout masks
 * come from a counter-based generator; every kernel sums in a fixed order).
 */
public final class Trainer {
    /** One labelled example; {@code pair} may be null. */
    public record Example(String text, String pair, int label) { }

    /**
     * Training settings, with HF Trainer's usual defaults for BERT.
     *
     * @param epochs passes over the data (ignored when maxSteps &gt; 0)
     * @param maxSteps optimizer steps to run, or 0 to use epochs
     * @param batchSize examples per forward/backward
     * @param gradientAccumulation micro-batches per optimizer step
     * @param lr peak learning rate
     * @param warmupRatio fraction of steps spent warming up
     * @param weightDecay AdamW decay for weights (not biases or LayerNorm weights)
     * @param gradClip max global gradient norm, or 0 for none
     * @param maxLength truncation length in tokens
     * @param seed shuffling, dropout and new-head seed
     */
    public record Settings(int epochs, int maxSteps, int batchSize, int gradientAccumulation, double lr, double warmupRatio,
                           double weightDecay, double gradClip, int maxLength, long seed) {
        /** HF Trainer's defaults: 3 epochs, batch 32, lr 2e-5, warmup 0.1, decay 0.01, clip 1.0, 128 tokens, seed 42. */
        public static Settings defaults() {
            return new Settings(3, 0, 32, 1, 2e-5, 0.1, 0.01, 1.0, 128, 42);
        }

        /** Checks ranges. */
        public Settings {
            if (epochs < 1 && maxSteps < 1) throw new IllegalArgumentException("need epochs >= 1 or max steps >= 1");
            if (batchSize < 1) throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
            if (gradientAccumulation < 1) throw new IllegalArgumentException("gradient accumulation must be >= 1");
            if (!(lr > 0)) throw new IllegalArgumentException("learning rate must be > 0, got " + lr);
            if (warmupRatio < 0 || warmupRatio > 1) throw new IllegalArgumentException("warmup ratio must be in [0, 1], got " + warmupRatio);
            if (weightDecay < 0) throw new IllegalArgumentException("weight decay must be >= 0");
            if (gradClip < 0) throw new IllegalArgumentException("grad clip must be >= 0");
            if (maxLength < 2) throw new IllegalArgumentException("max length must be >= 2");
        }
    }

    /** Called after each epoch with its number (1-based), mean train loss and validation metrics (or null). */
    public interface EpochListener {
        void epochEnd(int epoch, double trainLoss, Metrics validation) throws Exception;
    }

    /** Thrown when the loss stops being finite; training stops and nothing more is saved. */
    public static final class NonFiniteLossException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        NonFiniteLossException(String message) {
            super(message);
        }
    }

    private final TaskModel model;
    private final BertTokenizer tokenizer;
    private final Settings settings;
    private final PrintStream progress;
    private final List<Double> lossCurve = new ArrayList<>();

    /** @param progress where the progress bar goes (stderr for the CLI), or null for none */
    public Trainer(TaskModel model, BertTokenizer tokenizer, Settings settings, PrintStream progress) {
        this.model = Objects.requireNonNull(model);
        this.tokenizer = Objects.requireNonNull(tokenizer);
        this.settings = Objects.requireNonNull(settings);
        this.progress = progress;
    }

    /** Every optimizer step's training loss so far (mean over its micro-batches). */
    public List<Double> lossCurve() {
        return List.copyOf(lossCurve);
    }

    /** Encodes examples with truncation to the settings' max length (no padding: the collator pads per batch). */
    public List<Encoding> encode(List<Example> examples) {
        EncodeOptions o = EncodeOptions.builder().truncation(EncodeOptions.Truncation.LONGEST_FIRST).maxLength(settings.maxLength()).build();
        List<String> texts = new ArrayList<>(), pairs = new ArrayList<>();
        boolean anyPair = false;
        for (Example e : examples) {
            texts.add(e.text());
            pairs.add(e.pair());
            anyPair |= e.pair() != null;
        }
        return tokenizer.encodeBatch(texts, anyPair ? pairs : null, o);
    }

    /** The batch of examples {@code idx[from, to)}, padded to its longest (HF's DataCollatorWithPadding). */
    Batch collate(List<Encoding> enc, List<Example> ex, int[] idx, int from, int to) {
        List<DataCollatorWithPadding.Example> items = new ArrayList<>(to - from);
        for (int i = from; i < to; i++) items.add(new DataCollatorWithPadding.Example(enc.get(idx[i]), ex.get(idx[i]).label()));
        return new DataCollatorWithPadding(tokenizer).collateExamples(items);
    }

    /** Trains; returns the number of optimizer steps taken. */
    public int train(List<Example> train, List<Example> validation, EpochListener listener) throws Exception {
        if (train.isEmpty()) throw new IllegalArgumentException("the training set is empty");
        List<Encoding> enc = encode(train);
        List<Encoding> valEnc = validation == null || validation.isEmpty() ? null : encode(validation);
        int bs = settings.batchSize(), accum = settings.gradientAccumulation();
        int batchesPerEpoch = (train.size() + bs - 1) / bs;
        int stepsPerEpoch = (batchesPerEpoch + accum - 1) / accum;
        int total = settings.maxSteps() > 0 ? settings.maxSteps() : settings.epochs() * stepsPerEpoch;
        int epochs = settings.maxSteps() > 0 ? (total + stepsPerEpoch - 1) / stepsPerEpoch : settings.epochs();
        LinearSchedule schedule = new LinearSchedule(settings.lr(), LinearSchedule.warmupSteps(settings.warmupRatio(), total), total);
        AdamW optimizer = new AdamW(model.parameters(), settings.weightDecay(), AdamW.hfNoDecay(), model.backend());
        Gradients g = new Gradients(model.backend());
        int step = 0;
        long start = System.nanoTime();
        long seen = 0;
        for (int epoch = 1; epoch <= epochs && step < total; epoch++) {
            int[] order = shuffled(train.size(), new Random(settings.seed() + epoch));
            double epochLoss = 0;
            int epochSteps = 0;
            for (int b = 0; b < batchesPerEpoch; b += accum) {
                if (step >= total) break;
                int micro = Math.min(accum, batchesPerEpoch - b);
                double stepLoss = 0;
                for (int a = 0; a < micro; a++) {
                    int from = (b + a) * bs, to = Math.min(train.size(), from + bs);
                    Batch batch = collate(enc, train, order, from, to);
                    ClassifierOutput out = model.trainStep(batch, new TrainMode(settings.seed(), (long) step * accum + a, true), g);
                    if (!Float.isFinite(out.loss())) {
                        throw new NonFiniteLossException("the training loss became " + out.loss() + " at step " + (step + 1)
                                + " (epoch " + epoch + "); stopping. Try a lower --lr or --grad-clip; the last good checkpoint is kept.");
                    }
                    stepLoss += out.loss() / micro;
                    seen += to - from;
                }
                // Each micro-batch's loss is a mean; the step's loss is their mean, so scale the sum of gradients.
                if (micro > 1) g.divide(micro);
                if (settings.gradClip() > 0) {
                    double norm = GradClip.clipGlobalNorm(g, settings.gradClip());
                    if (!Double.isFinite(norm)) {
                        throw new NonFiniteLossException("the gradient norm became " + norm + " at step " + (step + 1) + "; stopping, the last good checkpoint is kept.");
                    }
                }
                optimizer.step(g, schedule.lr(step));
                g.zero();
                step++;
                lossCurve.add(stepLoss);
                epochLoss += stepLoss;
                epochSteps++;
                bar(epoch, epochs, step, total, stepLoss, seen, start);
            }
            if (progress != null) progress.println();
            Metrics val = valEnc == null ? null : evaluate(valEnc, validation);
            if (progress != null && val != null) {
                progress.printf("epoch %d: train loss %.4f, validation loss %.4f, accuracy %.4f, f1 %.4f%n",
                        epoch, epochLoss / Math.max(1, epochSteps), val.loss(), val.accuracy(), val.f1());
            }
            if (listener != null) listener.epochEnd(epoch, epochLoss / Math.max(1, epochSteps), val);
        }
        return step;
    }

    /** Loss, accuracy, F1 and confusion matrix on labelled examples (inference mode, no dropout). */
    public Metrics evaluate(List<Example> examples) {
        return evaluate(encode(examples), examples);
    }

    Metrics evaluate(List<Encoding> enc, List<Example> ex) {
        int n = ex.size(), bs = settings.batchSize(), classes = model.numLabels();
        int[] truth = new int[n], pred = new int[n];
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) idx[i] = i;
        double lossSum = 0;
        for (int from = 0; from < n; from += bs) {
            int to = Math.min(n, from + bs);
            Batch batch = collate(enc, ex, idx, from, to);
            ClassifierOutput out = model.forward(batch);
            float[] logits = out.logits().data();
            for (int r = 0; r < to - from; r++) {
                truth[from + r] = ex.get(from + r).label();
                int best = 0;
                for (int c = 1; c < classes; c++) if (logits[r * classes + c] > logits[r * classes + best]) best = c;
                pred[from + r] = best;
            }
            lossSum += out.loss() * (to - from);
        }
        return Metrics.of(truth, pred, lossSum, classes);
    }

    private static int[] shuffled(int n, Random r) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        return a;
    }

    private void bar(int epoch, int epochs, int step, int total, double loss, long seen, long start) {
        if (progress == null) return;
        double secs = (System.nanoTime() - start) / 1e9;
        double perStep = secs / step;
        long eta = Math.round(perStep * (total - step));
        int width = 24, filled = (int) ((long) width * step / total);
        String line = String.format("epoch %d/%d [%s%s] step %d/%d loss %.4f %.1f ex/s ETA %d:%02d",
                epoch, epochs, "#".repeat(filled), ".".repeat(width - filled), step, total, loss, seen / Math.max(secs, 1e-9),
                eta / 60, eta % 60);
        if (System.console() != null) progress.print("\r" + line);
        else if (step == total || step % Math.max(1, total / 20) == 0) progress.println(line);
    }
}
