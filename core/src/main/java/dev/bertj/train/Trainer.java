package dev.bertj.train;

import dev.bertj.model.ClassifierOutput;
import dev.bertj.model.MaskedLmOutput;
import dev.bertj.model.TrainMode;
import dev.bertj.nn.Gradients;
import dev.bertj.tensor.Tensor;
import dev.bertj.tokenizer.Batch;
import dev.bertj.tokenizer.BertTokenizer;
import dev.bertj.tokenizer.DataCollatorForLanguageModeling;
import dev.bertj.tokenizer.DataCollatorWithPadding;
import dev.bertj.tokenizer.EncodeOptions;
import dev.bertj.tokenizer.Encoding;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;

/**
 * Fine-tunes a {@link TrainableModel} as HF's Trainer does by default: AdamW (no decay on biases and
 * LayerNorm weights), linear warmup then decay, global-norm clipping, gradient accumulation,
 * seeded shuffling each epoch, and dynamic padding per batch. The task decides the batches and the
 * metrics: a classifier ({@link TaskModel}) gets row labels and {@link Metrics}; masked-LM
 * ({@link MaskedLmTaskModel}) gets tokens masked by {@link DataCollatorForLanguageModeling} and
 * {@link MaskedLmMetrics}. Everything else is one loop.
 *
 * <p>Determinism: the same seed and thread count give a bit-identical loss curve (dropout masks
 * and MLM masks come from counter-based generators keyed by the micro-batch number; every kernel
 * sums in a fixed order).
 *
 * <p>Checkpoints and resuming ({@link #checkpointing}, {@link #resumeFrom}): a run interrupted after
 * a checkpoint and resumed from it ends with weights bit-identical to an uninterrupted run, because
 * the checkpoint holds everything the next step reads: the weights, AdamW's moments and step counts,
 * the epoch's data order and position, and the step (which fixes the learning rate and the
 * generators); see {@link TrainerState}.
 */
public final class Trainer {
    /** One example: a text, an optional {@code pair}, and a class {@code label} ({@link #NO_LABEL} for masked-LM). */
    public record Example(String text, String pair, int label) {
        /** The label of an example without one (masked-LM text). */
        public static final int NO_LABEL = DataCollatorWithPadding.NO_LABEL;

        /** An unlabelled text, for masked-LM training. */
        public static Example text(String text) {
            return new Example(text, null, NO_LABEL);
        }
    }

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
     * @param seed shuffling, dropout, MLM-mask and new-head seed
     * @param mlmProbability masked-LM only: the share of tokens selected for prediction (HF's mlm_probability)
     */
    public record Settings(int epochs, int maxSteps, int batchSize, int gradientAccumulation, double lr, double warmupRatio,
                           double weightDecay, double gradClip, int maxLength, long seed, double mlmProbability) {
        /** HF Trainer's defaults: 3 epochs, batch 32, lr 2e-5, warmup 0.1, decay 0.01, clip 1.0, 128 tokens, seed 42, MLM 15%. */
        public static Settings defaults() {
            return new Settings(3, 0, 32, 1, 2e-5, 0.1, 0.01, 1.0, 128, 42, 0.15);
        }

        /** Settings with HF's mlm_probability of 0.15. */
        public Settings(int epochs, int maxSteps, int batchSize, int gradientAccumulation, double lr, double warmupRatio,
                        double weightDecay, double gradClip, int maxLength, long seed) {
            this(epochs, maxSteps, batchSize, gradientAccumulation, lr, warmupRatio, weightDecay, gradClip, maxLength, seed, 0.15);
        }

        /** Checks ranges. */
        public Settings {
            if (epochs < 1 && maxSteps < 1) throw new IllegalArgumentException("need epochs >= 1 or max steps >= 1");
            if (maxSteps < 0) throw new IllegalArgumentException("max steps must be >= 0, got " + maxSteps);
            if (batchSize < 1) throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
            if (gradientAccumulation < 1) throw new IllegalArgumentException("gradient accumulation must be >= 1");
            if (!(lr > 0)) throw new IllegalArgumentException("learning rate must be > 0, got " + lr);
            if (!(warmupRatio >= 0 && warmupRatio <= 1)) throw new IllegalArgumentException("warmup ratio must be in [0, 1], got " + warmupRatio);
            if (!(weightDecay >= 0)) throw new IllegalArgumentException("weight decay must be >= 0");
            if (!(gradClip >= 0)) throw new IllegalArgumentException("grad clip must be >= 0");
            if (maxLength < 2) throw new IllegalArgumentException("max length must be >= 2");
            if (!(mlmProbability > 0 && mlmProbability <= 1)) throw new IllegalArgumentException("mlm probability must be in (0, 1], got " + mlmProbability);
        }
    }

    /**
     * Resumable checkpoints ({@link TrainingCheckpoints}): {@code outputDir/checkpoint-<step>} at the
     * end of every epoch and, with {@code saveSteps > 0}, every {@code saveSteps} optimizer steps.
     *
     * @param outputDir where the checkpoints go
     * @param saveSteps steps between mid-epoch checkpoints, or 0 for epoch ends only
     * @param saveTotalLimit how many checkpoints to keep (the newest), or 0 for all (HF's default)
     * @param tokenizerJson the tokenizer.json to copy into each checkpoint, or null
     */
    public record Checkpointing(Path outputDir, int saveSteps, int saveTotalLimit, Path tokenizerJson) {
        /** Checks the counts. */
        public Checkpointing {
            Objects.requireNonNull(outputDir, "outputDir");
            if (saveSteps < 0) throw new IllegalArgumentException("save steps must be >= 0, got " + saveSteps);
            if (saveTotalLimit < 0) throw new IllegalArgumentException("save total limit must be >= 0, got " + saveTotalLimit);
        }
    }

    /** Called after each epoch with its number (1-based), mean train loss and validation metrics (or null). */
    public interface EpochListener {
        /** An epoch ended (after its evaluation, before its checkpoint). */
        void epochEnd(int epoch, double trainLoss, Evaluation validation) throws Exception;
    }

    /** Called after each optimizer step (HF's {@code on_step_end}); an exception stops training. */
    public interface StepListener {
        /** Step {@code step} (1-based) is done, with this training loss (NaN if no micro-batch had anything to predict). */
        void stepEnd(int step, double loss) throws Exception;
    }

    /** Thrown when the loss stops being finite; training stops and nothing more is saved. */
    public static final class NonFiniteLossException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        NonFiniteLossException(String message) {
            super(message);
        }
    }

    /** Masked-LM evaluation batches draw their masks from streams below every training micro-batch number. */
    private static final long EVAL_STREAM = Long.MIN_VALUE;

    private final TrainableModel model;
    private final BertTokenizer tokenizer;
    private final Settings settings;
    private final PrintStream progress;
    private final List<Double> lossCurve = new ArrayList<>();
    /** Per step of this process: the learning rate used and the gradient norm before clipping (NaN before a resume). */
    private final List<Double> lrCurve = new ArrayList<>(), gradNormCurve = new ArrayList<>();
    private final List<Map<String, Object>> epochLog = new ArrayList<>();
    private Checkpointing checkpointing;
    private Path resumeFrom;
    private StepListener stepListener;
    private Path lastCheckpoint;

    /** @param progress where the progress bar goes (stderr for the CLI), or null for none */
    public Trainer(TrainableModel model, BertTokenizer tokenizer, Settings settings, PrintStream progress) {
        this.model = Objects.requireNonNull(model);
        this.tokenizer = Objects.requireNonNull(tokenizer);
        this.settings = Objects.requireNonNull(settings);
        this.progress = progress;
    }

    /** Writes resumable checkpoints while training (null for none); returns this. */
    public Trainer checkpointing(Checkpointing c) {
        this.checkpointing = c;
        return this;
    }

    /**
     * The next {@link #train} continues from this checkpoint directory (one with
     * trainer_state.json; see {@link TrainingCheckpoints#resolve}) instead of starting afresh. The
     * model must hold the checkpoint's weights already (load it from the same directory).
     */
    public Trainer resumeFrom(Path checkpoint) {
        this.resumeFrom = checkpoint;
        return this;
    }

    /** Called after every optimizer step (null for none); returns this. */
    public Trainer onStep(StepListener l) {
        this.stepListener = l;
        return this;
    }

    /** Every optimizer step's training loss so far (mean over its micro-batches), including the steps before a resume. */
    public List<Double> lossCurve() {
        return List.copyOf(lossCurve);
    }

    /**
     * Every optimizer step's learning rate (the schedule's, steps before a resume included). With
     * {@link #lossCurve} and {@link #gradNormCurve}, the series of the training report.
     */
    public List<Double> learningRateCurve() {
        return List.copyOf(lrCurve);
    }

    /**
     * Every optimizer step's global gradient norm before clipping; NaN for steps taken before a
     * resume (a checkpoint does not keep them).
     */
    public List<Double> gradNormCurve() {
        return List.copyOf(gradNormCurve);
    }

    /** One entry per finished epoch ({@code epoch}, {@code train_loss}, {@code validation}), including those before a resume. */
    public List<Map<String, Object>> epochLog() {
        return List.copyOf(epochLog);
    }

    /** The last checkpoint written, or null. */
    public Path lastCheckpoint() {
        return lastCheckpoint;
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

    /**
     * The batch of examples {@code idx[from, to)}, padded to its longest: with their labels for a
     * classifier (HF's DataCollatorWithPadding), masked from {@code (seed, stream)} for masked-LM
     * (HF's DataCollatorForLanguageModeling).
     */
    Batch collate(List<Encoding> enc, List<Example> ex, int[] idx, int from, int to, long stream) {
        if (model instanceof MaskedLmTaskModel) {
            List<Encoding> items = new ArrayList<>(to - from);
            for (int i = from; i < to; i++) items.add(enc.get(idx[i]));
            return new DataCollatorForLanguageModeling(tokenizer, settings.mlmProbability(), 0.8, 0.1).collate(items, settings.seed(), stream);
        }
        List<DataCollatorWithPadding.Example> items = new ArrayList<>(to - from);
        for (int i = from; i < to; i++) items.add(new DataCollatorWithPadding.Example(enc.get(idx[i]), ex.get(idx[i]).label()));
        return new DataCollatorWithPadding(tokenizer).collateExamples(items);
    }

    /** The training batch {@code dump-grads}-style tools see first: examples 0..batchSize-1 in order, micro-batch 0's masks. */
    public Batch firstBatch(List<Example> examples) {
        List<Example> first = examples.subList(0, Math.min(settings.batchSize(), examples.size()));
        int[] idx = new int[first.size()];
        for (int i = 0; i < idx.length; i++) idx[i] = i;
        return collate(encode(first), first, idx, 0, idx.length, 0);
    }

    /** Whether a batch has anything to predict (a masked-LM batch may have no selected token). */
    private static boolean hasTargets(Batch b) {
        for (int y : b.labels()) if (y != DataCollatorForLanguageModeling.IGNORE_INDEX) return true;
        return false;
    }

    /**
     * Trains (or, after {@link #resumeFrom}, continues training); returns the number of optimizer
     * steps taken in all, those before the resume included.
     */
    public int train(List<Example> train, List<Example> validation, EpochListener listener) throws Exception {
        if (train.isEmpty()) throw new IllegalArgumentException("the training set is empty");
        // Every label is checked before the first step: a bad example found mid-epoch would leave the
        // model half-trained by a call that failed.
        checkLabels(train, "training");
        if (validation != null) checkLabels(validation, "validation");
        List<Encoding> enc = encode(train);
        List<Encoding> valEnc = validation == null || validation.isEmpty() ? null : encode(validation);
        int bs = settings.batchSize(), accum = settings.gradientAccumulation();
        int batchesPerEpoch = (train.size() + bs - 1) / bs;
        int stepsPerEpoch = (batchesPerEpoch + accum - 1) / accum;
        int total = settings.maxSteps() > 0 ? settings.maxSteps() : settings.epochs() * stepsPerEpoch;
        int epochs = settings.maxSteps() > 0 ? (total + stepsPerEpoch - 1) / stepsPerEpoch : settings.epochs();
        int warmup = LinearSchedule.warmupSteps(settings.warmupRatio(), total);
        LinearSchedule schedule = new LinearSchedule(settings.lr(), warmup, total);
        AdamW optimizer = new AdamW(model.parameters(), settings.weightDecay(), AdamW.hfNoDecay(), model.backend());
        Gradients g = new Gradients(model.backend());
        String dataSha = fingerprint(enc, train, model instanceof TaskModel);
        String modelSha = modelFingerprint(model.parameters());
        Plan plan = new Plan(total, epochs, warmup, dataSha, modelSha, train.size());

        lossCurve.clear();
        lrCurve.clear();
        gradNormCurve.clear();
        epochLog.clear();
        int step = 0, startEpoch = 1;
        TrainerState resumed = null;
        if (resumeFrom != null) {
            resumed = TrainerState.read(resumeFrom);
            checkResumable(resumed, plan);
            TrainingCheckpoints.readOptimizer(resumeFrom, optimizer);
            if (optimizer.stepCount() != resumed.globalStep()) {
                throw new IllegalArgumentException(resumeFrom.resolve(TrainingCheckpoints.OPTIMIZER_FILE) + ": metadata field step_count is "
                        + optimizer.stepCount() + " but " + TrainerState.FILE + " says global_step " + resumed.globalStep());
            }
            step = resumed.globalStep();
            lossCurve.addAll(resumed.losses());
            for (int i = 0; i < step; i++) {
                lrCurve.add(schedule.lr(i));
                gradNormCurve.add(Double.NaN);
            }
            epochLog.addAll(resumed.epochs());
            startEpoch = resumed.epochFinished() ? resumed.epoch() + 1 : resumed.epoch();
            if (progress != null) {
                progress.printf("bertj train: resuming from %s at step %d of %d (epoch %d, %s)%n", resumeFrom, step, total, resumed.epoch(),
                        resumed.epochFinished() ? "finished" : resumed.microBatchesDone() + " of " + batchesPerEpoch + " batches done");
            }
        }
        if (checkpointing != null) TrainingCheckpoints.removeLeftovers(checkpointing.outputDir(), progress);

        long start = System.nanoTime();
        long seen = 0;
        int firstStep = step;
        for (int epoch = startEpoch; epoch <= epochs && step < total; epoch++) {
            boolean continuing = resumed != null && !resumed.epochFinished() && epoch == resumed.epoch();
            int[] order = continuing ? resumed.order() : shuffled(train.size(), new Random(settings.seed() + epoch));
            int epochStart = continuing ? resumed.epochStartStep() : step;
            int b = continuing ? resumed.microBatchesDone() : 0;
            while (b < batchesPerEpoch && step < total) {
                int micro = Math.min(accum, batchesPerEpoch - b);
                List<Batch> batches = new ArrayList<>(micro);
                int scored = 0;
                for (int a = 0; a < micro; a++) {
                    int from = (b + a) * bs, to = Math.min(train.size(), from + bs);
                    Batch batch = collate(enc, train, order, from, to, (long) step * accum + a);
                    batches.add(batch);
                    if (model instanceof TaskModel || hasTargets(batch)) scored++;
                    seen += to - from;
                }
                double stepLoss = scored == 0 ? Double.NaN : 0;
                for (int a = 0; a < micro; a++) {
                    Batch batch = batches.get(a);
                    // A masked-LM micro-batch with no selected token adds nothing: PyTorch's backward of
                    // an all-ignored mean gives zero gradients.
                    if (!(model instanceof TaskModel) && !hasTargets(batch)) continue;
                    float loss = model.trainLoss(batch, new TrainMode(settings.seed(), (long) step * accum + a, true), g);
                    if (!Float.isFinite(loss)) {
                        throw new NonFiniteLossException("the training loss became " + loss + " at step " + (step + 1)
                                + " (epoch " + epoch + "); stopping. Try a lower --lr or --grad-clip; the last good checkpoint is kept.");
                    }
                    stepLoss += loss / scored;
                }
                // Each micro-batch's loss is a mean; the step's loss is their mean, so scale the sum of gradients.
                if (micro > 1) g.divide(micro);
                // Without clipping, an infinite max norm measures the norm and scales by 1 (a no-op).
                double norm = GradClip.clipGlobalNorm(g, settings.gradClip() > 0 ? settings.gradClip() : Double.POSITIVE_INFINITY);
                if (settings.gradClip() > 0 && !Double.isFinite(norm)) {
                    throw new NonFiniteLossException("the gradient norm became " + norm + " at step " + (step + 1) + "; stopping, the last good checkpoint is kept.");
                }
                double lr = schedule.lr(step);
                optimizer.step(g, lr);
                lrCurve.add(lr);
                gradNormCurve.add(norm);
                g.zero();
                step++;
                b += micro;
                lossCurve.add(stepLoss);
                bar(epoch, epochs, step, total, stepLoss, seen, start, step - firstStep);
                if (stepListener != null) stepListener.stepEnd(step, stepLoss);
                boolean lastOfEpoch = b >= batchesPerEpoch || step >= total;
                if (checkpointing != null && checkpointing.saveSteps() > 0 && step % checkpointing.saveSteps() == 0 && !lastOfEpoch) {
                    save(optimizer, state(plan, step, epoch, b, false, epochStart, order));
                }
            }
            if (progress != null) progress.println();
            double epochLoss = meanLoss(epochStart, step);
            Evaluation val = valEnc == null ? null : evaluate(valEnc, validation);
            if (progress != null && (val != null || model instanceof MaskedLmTaskModel)) {
                String trained = model instanceof MaskedLmTaskModel ? String.format("train loss %.4f, perplexity %.4f", epochLoss, Math.exp(epochLoss))
                        : String.format("train loss %.4f", epochLoss);
                progress.printf("epoch %d: %s%s%n", epoch, trained, val == null ? "" : "; validation " + val.summary());
            }
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("epoch", (long) epoch);
            entry.put("train_loss", Double.isNaN(epochLoss) ? null : epochLoss);
            if (model instanceof MaskedLmTaskModel && !Double.isNaN(epochLoss)) entry.put("train_perplexity", Math.exp(epochLoss));
            if (val != null) entry.put("validation", val.toJson());
            epochLog.add(entry);
            if (listener != null) listener.epochEnd(epoch, epochLoss, val);
            if (checkpointing != null) save(optimizer, state(plan, step, epoch, b, true, epochStart, order));
        }
        return step;
    }

    /** What the run's shape and inputs are; a resumed state must agree with all of it. */
    private record Plan(int total, int epochs, int warmup, String dataSha, String modelSha, int examples) { }

    private TrainerState state(Plan p, int step, int epoch, int microBatchesDone, boolean finished, int epochStart, int[] order) {
        return new TrainerState(model.architecture(), step, epoch, microBatchesDone, finished, epochStart, p.total(), p.epochs(), p.warmup(),
                settings, p.examples(), p.dataSha(), order, p.modelSha(), lossCurve, epochLog,
                checkpointing == null ? 0 : checkpointing.saveSteps(), checkpointing == null ? 0 : checkpointing.saveTotalLimit());
    }

    private void save(AdamW optimizer, TrainerState st) throws IOException {
        lastCheckpoint = TrainingCheckpoints.write(checkpointing.outputDir(), model, tokenizer, checkpointing.tokenizerJson(), optimizer, st,
                checkpointing.saveTotalLimit());
        if (progress != null) progress.println("bertj train: checkpoint saved to " + lastCheckpoint);
    }

    /** Refuses a state written by another model, other data or other settings, naming the field. */
    private void checkResumable(TrainerState st, Plan p) {
        Path file = resumeFrom.resolve(TrainerState.FILE);
        if (!st.architecture().equals(model.architecture())) {
            TrainerState.fail(file, "architecture", "is " + st.architecture() + " but the model being trained is a " + model.architecture());
        }
        if (!st.modelSha256().equals(p.modelSha())) {
            TrainerState.fail(file, "model_sha256", "does not match the model's parameter names and shapes (a trainer_state.json of another model?)");
        }
        Settings s = st.settings();
        check(file, "args.num_train_epochs", s.epochs(), settings.epochs(), "--epochs");
        check(file, "args.max_steps", s.maxSteps(), settings.maxSteps(), "--max-steps");
        check(file, "args.train_batch_size", s.batchSize(), settings.batchSize(), "--batch-size");
        check(file, "args.gradient_accumulation_steps", s.gradientAccumulation(), settings.gradientAccumulation(), "--gradient-accumulation");
        check(file, "args.learning_rate", s.lr(), settings.lr(), "--lr");
        check(file, "args.warmup_ratio", s.warmupRatio(), settings.warmupRatio(), "--warmup-ratio");
        check(file, "args.weight_decay", s.weightDecay(), settings.weightDecay(), "--weight-decay");
        check(file, "args.max_grad_norm", s.gradClip(), settings.gradClip(), "--grad-clip");
        check(file, "args.max_length", s.maxLength(), settings.maxLength(), "--max-length");
        check(file, "args.seed", s.seed(), settings.seed(), "--seed");
        if (model instanceof MaskedLmTaskModel) check(file, "args.mlm_probability", s.mlmProbability(), settings.mlmProbability(), "--mlm-probability");
        if (st.trainExamples() != p.examples() || !st.trainSha256().equals(p.dataSha())) {
            TrainerState.fail(file, "data.train_sha256", "does not match the training data given (" + p.examples() + " examples; the checkpoint's run had "
                    + st.trainExamples() + "): resume with the same --train file");
        }
        if (st.maxSteps() != p.total() || st.warmupSteps() != p.warmup() || st.numEpochs() != p.epochs()) {
            TrainerState.fail(file, "max_steps", "is " + st.maxSteps() + " (warmup " + st.warmupSteps() + ", " + st.numEpochs()
                    + " epochs) but this run plans " + p.total() + " (warmup " + p.warmup() + ", " + p.epochs() + " epochs)");
        }
    }

    private static void check(Path file, String field, Object saved, Object now, String flag) {
        if (!saved.equals(now)) {
            TrainerState.fail(file, field, "is " + saved + " but this run has " + flag + " " + now + "; a resumed run keeps the checkpoint's settings");
        }
    }

    /** Mean of the defined step losses from {@code from} to {@code to}, summed in step order (as the loop would add them). */
    private double meanLoss(int from, int to) {
        double sum = 0;
        int n = 0;
        for (int i = from; i < to; i++) {
            double l = lossCurve.get(i);
            if (Double.isNaN(l)) continue;
            sum += l;
            n++;
        }
        return n == 0 ? Double.NaN : sum / n;
    }

    /** A classifier's examples must each carry a label of its head: {@code 0 <= label < numLabels}. */
    private void checkLabels(List<Example> examples, String set) {
        if (!(model instanceof TaskModel tm)) return;
        for (int i = 0; i < examples.size(); i++) {
            int y = examples.get(i).label();
            if (y < 0) throw new IllegalArgumentException(set + " example " + i + " has no label; a classifier trains on labelled examples");
            if (y >= tm.numLabels()) {
                throw new IllegalArgumentException(set + " example " + i + " has label " + y + ", but the classifier has " + tm.numLabels() + " labels (0.."
                        + (tm.numLabels() - 1) + ")");
            }
        }
    }

    /** Loss, accuracy, F1 and confusion matrix of a classifier on labelled examples (inference mode, no dropout). */
    public Metrics evaluate(List<Example> examples) {
        if (!(model instanceof TaskModel)) throw new IllegalStateException("evaluate() scores a classifier; use evaluateMaskedLm for a masked-LM model");
        checkLabels(examples, "evaluation");
        return (Metrics) evaluate(encode(examples), examples);
    }

    /** Masked-LM loss and perplexity on texts, masked as in training but from fixed streams (the same masks every call). */
    public MaskedLmMetrics evaluateMaskedLm(List<Example> examples) {
        if (!(model instanceof MaskedLmTaskModel)) throw new IllegalStateException("evaluateMaskedLm() scores a masked-LM model; use evaluate for a classifier");
        return (MaskedLmMetrics) evaluate(encode(examples), examples);
    }

    /** Whichever of {@link #evaluate} and {@link #evaluateMaskedLm} fits the model. */
    public Evaluation evaluation(List<Example> examples) {
        return evaluate(encode(examples), examples);
    }

    Evaluation evaluate(List<Encoding> enc, List<Example> ex) {
        int n = ex.size(), bs = settings.batchSize();
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) idx[i] = i;
        if (model instanceof MaskedLmTaskModel mlm) {
            double lossSum = 0;
            long tokens = 0;
            for (int from = 0, k = 0; from < n; from += bs, k++) {
                Batch batch = collate(enc, ex, idx, from, Math.min(n, from + bs), EVAL_STREAM + k);
                if (!hasTargets(batch)) continue;
                MaskedLmOutput out = mlm.forward(batch);
                lossSum += (double) out.loss() * out.positions().length;
                tokens += out.positions().length;
            }
            return MaskedLmMetrics.of(lossSum, tokens, n);
        }
        TaskModel cls = (TaskModel) model;
        int classes = cls.numLabels();
        int[] truth = new int[n], pred = new int[n];
        double lossSum = 0;
        for (int from = 0; from < n; from += bs) {
            int to = Math.min(n, from + bs);
            ClassifierOutput out = cls.forward(collate(enc, ex, idx, from, to, 0));
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

    /**
     * SHA-256 of encoded examples in order (ids, token types and, for a classifier, labels): the
     * identity of a run's training data as the model sees it, recorded in trainer_state.json.
     */
    static String fingerprint(List<Encoding> enc, List<Example> ex, boolean labels) {
        MessageDigest d = sha256();
        ByteBuffer buf = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < enc.size(); i++) {
            Encoding e = enc.get(i);
            int[][] parts = {e.ids(), e.typeIds(), {labels ? ex.get(i).label() : 0}};
            for (int[] part : parts) {
                d.update(buf.clear().putInt(part.length).array());
                for (int v : part) d.update(buf.clear().putInt(v).array());
            }
        }
        return HexFormat.of().formatHex(d.digest());
    }

    /** SHA-256 of the parameters' names and shapes, in order: which model a trainer state belongs to. */
    static String modelFingerprint(Map<String, Tensor> params) {
        MessageDigest d = sha256();
        params.forEach((name, t) -> d.update((name + java.util.Arrays.toString(t.shape()) + "\n").getBytes(StandardCharsets.UTF_8)));
        return HexFormat.of().formatHex(d.digest());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
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

    private void bar(int epoch, int epochs, int step, int total, double loss, long seen, long start, int stepsThisRun) {
        if (progress == null) return;
        double secs = (System.nanoTime() - start) / 1e9;
        double perStep = secs / Math.max(1, stepsThisRun);
        long eta = Math.round(perStep * (total - step));
        int width = 24, filled = (int) ((long) width * step / total);
        String line = String.format("epoch %d/%d [%s%s] step %d/%d loss %.4f %.1f ex/s ETA %d:%02d",
                epoch, epochs, "#".repeat(filled), ".".repeat(width - filled), step, total, loss, seen / Math.max(secs, 1e-9),
                eta / 60, eta % 60);
        if (System.console() != null) progress.print("\r" + line);
        else if (step == total || step % Math.max(1, total / 20) == 0) progress.println(line);
    }
}
