package dev.bertj.cli;

import dev.bertj.io.Json;
import dev.bertj.io.Npy;
import dev.bertj.model.BertClassifier;
import dev.bertj.model.BertConfig;
import dev.bertj.model.BertForMaskedLM;
import dev.bertj.model.CustomHeadConfig;
import dev.bertj.model.BertForSequenceClassification;
import dev.bertj.model.BertModel;
import dev.bertj.model.TrainMode;
import dev.bertj.report.TrainingReport;
import dev.bertj.nn.Gradients;
import dev.bertj.tensor.Tensor;
import dev.bertj.tokenizer.Batch;
import dev.bertj.tokenizer.BertTokenizer;
import dev.bertj.train.Checkpoint;
import dev.bertj.train.Evaluation;
import dev.bertj.train.MaskedLmTaskModel;
import dev.bertj.train.TaskModel;
import dev.bertj.train.TrainableModel;
import dev.bertj.train.Trainer;
import dev.bertj.train.TrainerState;
import dev.bertj.train.TrainingCheckpoints;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** {@code ./bertj train}: fine-tune a classifier or a masked-LM, resumably, and save checkpoints HF can load. */
final class TrainCommand implements Command {
    @Override
    public String name() {
        return "train";
    }

    @Override
    public String summary() {
        return "fine-tune a classifier or masked-LM (HF-loadable checkpoints, resumable, metrics.json)";
    }

    @Override
    public String help() {
        return """
                Usage: ./bertj train --model DIR|default --train FILE [--validation FILE] [--test FILE] --out DIR
                         [--task classification|mlm] [--labels a,b,...] [--head sequence-classification|custom]
                         [--pooling pooler|cls|mean] [--ff-dim N] [--epochs N] [--max-steps N] [--batch-size B]
                         [--lr X] [--warmup-ratio X] [--weight-decay X] [--grad-clip X] [--max-length N] [--dropout P]
                         [--seed S] [--gradient-accumulation N] [--mlm-probability P] [--save-steps N]
                         [--save-total-limit N] [--dump-grads DIR]
                       ./bertj train --resume DIR --train FILE [--validation FILE] [--test FILE] [--out DIR]

                Files are JSON Lines: {"text": ..., "label": ...} with an optional "text_pair"; a label is
                a name or an id. For --task mlm labels are not needed, and a .txt file is read as one text
                per non-blank line. Defaults are HF Trainer's for BERT: lr 2e-5, batch 32, warmup 0.1,
                weight decay 0.01, grad clip 1.0, max length 128, seed 42, 3 epochs.

                  --task           classification (default) or mlm: masked-LM fine-tuning of BertForMaskedLM
                                   (HF's DataCollatorForLanguageModeling: 15% of tokens selected, 80% [MASK],
                                   10% random, 10% kept; loss and perplexity per epoch)
                  --head           a new head when the model has none: sequence-classification (HF's
                                   BertForSequenceClassification, default) or custom (the notebook's head);
                                   a model directory that already has a head keeps it
                  --pooling        custom head features: pooler (default), cls, or mean (over real tokens)
                  --ff-dim         custom head hidden size (default 256)
                  --labels         label names in id order (default: the model's id2label, else the
                                   sorted names found in --train)
                  --dropout P      overrides every dropout of the config
                  --mlm-probability P  share of tokens selected for masked-LM prediction (default 0.15)
                  --out DIR        the model (model.safetensors, config.json, tokenizer files), written after
                                   each epoch; resumable checkpoints in DIR/checkpoint-<step> (the model plus
                                   optimizer.safetensors and trainer_state.json), each written atomically;
                                   metrics.json (per-epoch train loss and validation metrics, test metrics, and
                                   per step the loss, learning rate and gradient norm before clipping in
                                   log_history) and report.html (those as charts, and the confusion matrix)
                  --save-steps N   also a checkpoint every N optimizer steps (default: at epoch ends only)
                  --save-total-limit N  keep the newest N checkpoints (default: all, as HF)
                  --resume DIR     continue an interrupted run from a checkpoint directory, or from the newest
                                   complete checkpoint-<step> in DIR; settings come from its trainer_state.json
                                   (a flag that disagrees is an error), --out defaults to the checkpoint's parent.
                                   The run ends with the weights an uninterrupted run would have, bit for bit.
                  --dump-grads DIR forward and backward on the first --batch-size examples of --train in file
                                   order (padded to the longest; for mlm masked as the first training batch),
                                   writes every parameter's gradient as DIR/<checkpoint name>.npy, the loss as
                                   DIR/loss.npy and the batch as DIR/inputs/*.npy, and exits without an
                                   optimizer step. Use --dropout 0 to compare with autograd.
                --device cpu|cuda|cuda:N runs the model on that device (the GPU backend bertj-cuda; ./bertj
                adds it); --precision fp32|tf32|bf16 picks the GPU's matrix-product arithmetic (default fp32).
                """;
    }

    @Override
    public int run(String[] argv, BufferedReader in, PrintStream out, PrintStream err) throws Exception {
        Args a = new Args(name(), argv, Args.withDevice(Set.of("model", "train", "validation", "test", "labels", "head", "pooling", "ff-dim",
                "epochs", "max-steps", "batch-size", "lr", "warmup-ratio", "weight-decay", "grad-clip", "max-length", "dropout",
                "seed", "out", "dump-grads", "gradient-accumulation", "task", "mlm-probability", "resume", "save-steps", "save-total-limit")), Set.of());
        var device = a.device();
        long started = System.nanoTime();
        Path trainFile = Path.of(a.require("train"));
        Path resume = a.has("resume") ? TrainingCheckpoints.resolve(Path.of(a.get("resume"))) : null;
        TrainerState state = resume == null ? null : TrainerState.read(resume);
        if (resume != null && a.has("dump-grads")) throw new Args.UsageException("train: --dump-grads and --resume do not go together");
        // A resumed run takes its settings from the checkpoint; a flag given anyway must agree (the Trainer says which does not).
        Trainer.Settings d = state == null ? Trainer.Settings.defaults() : state.settings();
        Trainer.Settings s = new Trainer.Settings(a.intValue("epochs", d.epochs(), 1), a.intValue("max-steps", d.maxSteps(), 0),
                a.intValue("batch-size", d.batchSize(), 1), a.intValue("gradient-accumulation", d.gradientAccumulation(), 1), dbl(a, "lr", d.lr()),
                dbl(a, "warmup-ratio", d.warmupRatio()), dbl(a, "weight-decay", d.weightDecay()), dbl(a, "grad-clip", d.gradClip()),
                a.intValue("max-length", d.maxLength(), 2), a.has("seed") ? parseLong(a, "seed") : d.seed(),
                dbl(a, "mlm-probability", d.mlmProbability()));
        Path outDir = a.has("out") ? Path.of(a.get("out")) : resume != null ? defaultOut(resume) : null;
        if (outDir == null && !a.has("dump-grads")) throw new Args.UsageException("train: --out DIR is required (or --dump-grads DIR)");
        if (outDir != null && !a.has("dump-grads")) {
            TrainingCheckpoints.checkOutputDir(outDir);
            Path stale = resume == null ? TrainingCheckpoints.latest(outDir) : null;
            // A fresh run among another run's checkpoints would leave them to be taken for its own by a later --resume.
            if (stale != null) {
                throw new IllegalArgumentException(outDir + " already holds the checkpoints of a run (" + stale.getFileName()
                        + "); continue it with --resume " + outDir + ", or train into another --out");
            }
        }

        Path dir = resume != null ? resume : ModelCache.resolve(a.require("model"));
        if (resume != null && a.has("model")) err.println("bertj train: resuming from " + resume + "; the weights come from there, not from --model");
        BertTokenizer tok = BertTokenizer.fromPretrained(dir);
        String task = task(a, state, resume);
        Float dropout = a.has("dropout") ? (float) dbl(a, "dropout", 0) : null;
        TrainableModel model;
        List<String> labels = null;
        Map<String, Integer> ids = new LinkedHashMap<>();
        List<Map<String, Object>> trainRows = readRows(trainFile, task);
        if (task.equals("mlm")) {
            model = MaskedLmTaskModel.of(resume != null ? Checkpoint.loadMaskedLm(dir) : maskedLm(dir, dropout, s.seed()));
        } else {
            BertConfig base = BertConfig.read(dir.resolve("config.json"));
            labels = labels(a, base, trainRows, trainFile);
            for (int i = 0; i < labels.size(); i++) ids.put(labels.get(i), i);
            model = resume != null ? classifierToResume(dir) : classifier(a, dir, labels, dropout, s.seed());
            if (((TaskModel) model).numLabels() != labels.size()) {
                throw new IllegalArgumentException(dir + " has a head with " + ((TaskModel) model).numLabels() + " classes but the labels are " + labels);
            }
        }
        if (resume != null && dropout != null) checkDropout(resume, dropout);
        model.to(device);
        List<Trainer.Example> train = examples(trainRows, ids, trainFile, task);

        Trainer trainer = new Trainer(model, tok, s, err);
        if (a.has("dump-grads")) return dumpGrads(trainer, model, train, s, Path.of(a.get("dump-grads")), out);

        List<Trainer.Example> validation = a.has("validation") ? examples(readRows(Path.of(a.get("validation")), task), ids, Path.of(a.get("validation")), task) : null;
        List<Trainer.Example> test = a.has("test") ? examples(readRows(Path.of(a.get("test")), task), ids, Path.of(a.get("test")), task) : null;
        Path tokenizerJson = tokenizerJson(dir, resume != null);
        // A resumed run keeps the checkpoint's saving schedule unless told otherwise (it changes no weight).
        trainer.checkpointing(new Trainer.Checkpointing(outDir, a.intValue("save-steps", state == null ? 0 : state.saveSteps(), 0),
                a.intValue("save-total-limit", state == null ? 0 : state.saveTotalLimit(), 0), tokenizerJson));
        if (resume != null) trainer.resumeFrom(resume);
        boolean[] saved = {false};
        trainer.train(train, validation, (epoch, trainLoss, val) -> {
            TrainingCheckpoints.saveModel(outDir, model, tok, tokenizerJson);
            saved[0] = true;
            err.println("bertj train: model saved to " + outDir);
        });
        // A run resumed from its final checkpoint trains nothing, and a crash may have cut the last save of OUT short.
        if (!saved[0]) TrainingCheckpoints.saveModel(outDir, model, tok, tokenizerJson);
        Map<String, Object> metrics = new LinkedHashMap<>();
        metrics.put("task", task);
        if (labels != null) metrics.put("labels", labels);
        metrics.put("epochs", trainer.epochLog());
        if (test != null) {
            Evaluation tm = trainer.evaluation(test);
            metrics.put("test", tm.toJson());
            out.printf("test: %s on %d examples%n", tm.summary(), tm.count());
        }
        metrics.put("steps", (long) trainer.lossCurve().size());
        metrics.put("wall_time_s", (System.nanoTime() - started) / 1e9);
        metrics.put("max_grad_norm", s.gradClip());
        metrics.put("log_history", stepLog(trainer));
        Files.createDirectories(outDir);
        dev.bertj.io.AtomicFiles.writeString(outDir.resolve("metrics.json"), Json.writePretty(metrics) + "\n");
        TrainingReport.write(outDir.resolve("report.html"), metrics);
        out.println("wrote " + outDir.resolve("metrics.json") + " and " + outDir.resolve("report.html"));
        return 0;
    }

    /**
     * Per optimizer step, HF's log_history fields: {@code step}, {@code loss}, {@code learning_rate}
     * and {@code grad_norm} (before clipping). JSON has no NaN: a value a step lacks (a masked-LM step
     * with nothing to predict, a grad norm from before a resume) is null.
     */
    private static List<Object> stepLog(Trainer trainer) {
        List<Double> loss = trainer.lossCurve(), lr = trainer.learningRateCurve(), grad = trainer.gradNormCurve();
        List<Object> log = new ArrayList<>();
        for (int i = 0; i < loss.size(); i++) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("step", (long) i + 1);
            e.put("loss", finite(loss.get(i)));
            e.put("learning_rate", i < lr.size() ? finite(lr.get(i)) : null);
            e.put("grad_norm", i < grad.size() ? finite(grad.get(i)) : null);
            log.add(e);
        }
        return log;
    }

    private static Double finite(double v) {
        return Double.isFinite(v) ? v : null;
    }

    /**
     * The tokenizer.json to copy into every saved model, or null. A resumed run copies the checkpoint's
     * first: --save-total-limit may delete that checkpoint before the run ends.
     */
    private static Path tokenizerJson(Path dir, boolean fromCheckpoint) throws IOException {
        Path f = dir.resolve("tokenizer.json");
        if (!Files.isRegularFile(f)) return null;
        if (!fromCheckpoint) return f;
        Path copy = Files.createTempFile("bertj-tokenizer", ".json");
        copy.toFile().deleteOnExit();
        return Files.copy(f, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    /** The task: --task, else the resumed checkpoint's; a flag that contradicts the checkpoint is an error. */
    private static String task(Args a, TrainerState state, Path resume) {
        String fromState = state == null ? null : state.architecture().equals(Checkpoint.HeadKind.MASKED_LM.architecture()) ? "mlm" : "classification";
        String t = a.has("task") ? a.get("task") : fromState != null ? fromState : "classification";
        if (!t.equals("classification") && !t.equals("mlm")) throw new Args.UsageException("train: --task must be classification or mlm, got '" + t + "'");
        if (fromState != null && !fromState.equals(t)) {
            throw new IllegalArgumentException(resume.resolve(TrainerState.FILE) + ": field architecture is " + state.architecture()
                    + ", a " + fromState + " run, not --task " + t);
        }
        return t;
    }

    /** The output directory of a resumed run: where train put the checkpoint, {@code OUT/checkpoint-<step>}. */
    private static Path defaultOut(Path checkpoint) {
        Path abs = checkpoint.toAbsolutePath().normalize();
        if (abs.getFileName().toString().matches("checkpoint-\\d+") && abs.getParent() != null) return abs.getParent();
        throw new Args.UsageException("train: --out DIR is required when --resume names a directory not called checkpoint-<step>");
    }

    /** The masked-LM model to fine-tune: HF's BertForMaskedLM.from_pretrained, a missing head initialised with HF's warning. */
    private static BertForMaskedLM maskedLm(Path dir, Float dropout, long seed) throws IOException {
        BertForMaskedLM m = BertForMaskedLM.fromPretrained(dir);
        if (dropout == null) return m;
        BertConfig c = m.config().with("hidden_dropout_prob", dropout).with("attention_probs_dropout_prob", dropout);
        Map<String, Tensor> weights = new LinkedHashMap<>();
        // of() takes the encoder's weights without "bert." and the head's by their full names.
        m.parameters().forEach((k, v) -> weights.put(k.startsWith("bert.") ? k.substring(5) : k, v));
        if (!m.bert().hasPretrainedPooler()) weights.keySet().removeIf(k -> k.startsWith("pooler."));
        return BertForMaskedLM.of(c, weights, seed);
    }

    private static TaskModel classifierToResume(Path dir) throws IOException {
        return switch (Checkpoint.headKind(dir)) {
            case CUSTOM -> TaskModel.of(Checkpoint.loadClassifier(dir));
            case SEQUENCE_CLASSIFICATION -> TaskModel.of(Checkpoint.loadSequenceClassification(dir));
            case MASKED_LM, NONE -> throw new IllegalArgumentException(dir.resolve("config.json") + ": field architectures names no classification head");
        };
    }

    private static TaskModel classifier(Args a, Path dir, List<String> labels, Float dropout, long seed) throws IOException {
        Checkpoint.HeadKind kind = Checkpoint.headKind(dir);
        if (kind == Checkpoint.HeadKind.CUSTOM) {
            BertClassifier m = Checkpoint.loadClassifier(dir);
            return TaskModel.of(dropout != null ? withDropout(m, dropout, seed) : m);
        }
        if (kind == Checkpoint.HeadKind.SEQUENCE_CLASSIFICATION && dropout == null) return TaskModel.of(Checkpoint.loadSequenceClassification(dir));
        BertModel encoder = BertModel.fromPretrained(dir);
        BertConfig c = encoder.config().withLabels(labels);
        if (dropout != null) c = c.with("hidden_dropout_prob", dropout).with("attention_probs_dropout_prob", dropout).with("classifier_dropout", dropout);
        String head = kind == Checkpoint.HeadKind.SEQUENCE_CLASSIFICATION ? "sequence-classification"
                : a.has("head") ? a.get("head") : "sequence-classification";
        Map<String, Tensor> weights = new LinkedHashMap<>(encoder.parameters());
        if (kind == Checkpoint.HeadKind.SEQUENCE_CLASSIFICATION) {
            Checkpoint.loadSequenceClassification(dir).parameters().forEach((k, v) -> weights.put(k.startsWith("bert.") ? k.substring(5) : k, v));
        }
        switch (head) {
            case "sequence-classification" -> {
                return TaskModel.of(BertForSequenceClassification.of(
                        c.with("architectures", List.of("BertForSequenceClassification")), weights, labels.size(), seed));
            }
            case "custom" -> {
                String pooling = a.has("pooling") ? a.get("pooling") : "pooler";
                if (!List.of("pooler", "cls", "mean").contains(pooling)) {
                    throw new Args.UsageException("train: --pooling must be pooler, cls or mean, got '" + pooling + "'");
                }
                CustomHeadConfig hc = new CustomHeadConfig(a.intValue("ff-dim", 256, 1), labels.size(),
                        dropout != null ? dbl(a, "dropout", 0) : Double.parseDouble(Float.toString(c.hiddenDropoutProb())), switch (pooling) {
                            case "cls" -> BertClassifier.Pooling.CLS_ONLY;
                            case "mean" -> BertClassifier.Pooling.AVERAGE_ALL;
                            default -> BertClassifier.Pooling.POOLER;
                        });
                BertConfig cc = hc.apply(c.with("architectures", List.of("BertClassifier")));
                return TaskModel.of(BertClassifier.of(BertModel.of(cc, weights, seed), Map.of(), seed));
            }
            default -> throw new Args.UsageException("train: --head must be sequence-classification or custom, got '" + head + "'");
        }
    }

    private static BertClassifier withDropout(BertClassifier m, float p, long seed) {
        BertConfig c = m.bert().config().with("hidden_dropout_prob", p).with("attention_probs_dropout_prob", p).with("classifier_dropout", p).with("ff_dropout", p);
        Map<String, Tensor> all = m.parameters();
        return BertClassifier.of(BertModel.of(c, all, seed), all, seed);
    }

    /** A resumed run's dropout is the checkpoint's (config.json); --dropout may only repeat it. */
    private static void checkDropout(Path dir, float dropout) throws IOException {
        float saved = BertConfig.read(dir.resolve("config.json")).hiddenDropoutProb();
        if (saved != dropout) {
            throw new IllegalArgumentException(dir.resolve("config.json") + ": field hidden_dropout_prob is " + saved + " but --dropout is "
                    + dropout + "; a resumed run keeps the checkpoint's dropout");
        }
    }

    private static int dumpGrads(Trainer trainer, TrainableModel model, List<Trainer.Example> train, Trainer.Settings s,
                                 Path outDir, PrintStream out) throws IOException {
        Batch batch = trainer.firstBatch(train);
        Gradients g = new Gradients(model.backend());
        float loss = model.trainLoss(batch, new TrainMode(s.seed(), 0, true), g);
        Files.createDirectories(outDir.resolve("inputs"));
        int n = 0;
        for (Map.Entry<String, Tensor> p : model.parameters().entrySet()) {
            float[] grad = g.asMap().get(p.getKey());
            if (grad == null) grad = new float[p.getValue().size()];
            Npy.writeFloat32(outDir.resolve(p.getKey() + ".npy"), grad, p.getValue().shape());
            n++;
        }
        Npy.writeFloat32(outDir.resolve("loss.npy"), new float[] {loss});
        int b = batch.batchSize(), sl = batch.seqLen();
        Npy.writeInt64(outDir.resolve("inputs/input_ids.npy"), batch.inputIds(), b, sl);
        Npy.writeInt64(outDir.resolve("inputs/token_type_ids.npy"), batch.tokenTypeIds(), b, sl);
        Npy.writeInt64(outDir.resolve("inputs/attention_mask.npy"), batch.attentionMask(), b, sl);
        int[] y = batch.labels();
        if (y.length == b) Npy.writeInt64(outDir.resolve("inputs/labels.npy"), y, b);
        else Npy.writeInt64(outDir.resolve("inputs/labels.npy"), y, b, sl);
        out.printf("wrote %d gradients, loss.npy (loss %.6f, batch [%d, %d]) and inputs/ to %s%n", n, loss, b, sl, outDir);
        return 0;
    }

    private static double dbl(Args a, String name, double dflt) {
        if (!a.has(name)) return dflt;
        try {
            return Double.parseDouble(a.get(name));
        } catch (NumberFormatException e) {
            throw new Args.UsageException("train: --" + name + " must be a number, got '" + a.get(name) + "'");
        }
    }

    private static long parseLong(Args a, String name) {
        try {
            return Long.parseLong(a.get(name));
        } catch (NumberFormatException e) {
            throw new Args.UsageException("train: --" + name + " must be a whole number, got '" + a.get(name) + "'");
        }
    }

    /** JSON Lines rows; for masked-LM a {@code .txt} file is one text per non-blank line. */
    private static List<Map<String, Object>> readRows(Path file, String task) throws IOException {
        if (!task.equals("mlm") || !file.getFileName().toString().endsWith(".txt")) return readJsonl(file);
        List<Map<String, Object>> rows = new ArrayList<>();
        int line = 0;
        for (String l : Files.readAllLines(file)) {
            line++;
            if (l.isBlank()) continue;
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("text", l);
            row.put("__line", (long) line);
            rows.add(row);
        }
        if (rows.isEmpty()) throw new IllegalArgumentException(file + ": no texts");
        return rows;
    }

    static List<Map<String, Object>> readJsonl(Path file) throws IOException {
        List<Map<String, Object>> rows = new ArrayList<>();
        int line = 0;
        for (String l : Files.readAllLines(file)) {
            line++;
            if (l.isBlank()) continue;
            Object v;
            try {
                v = Json.parse(l, file + ":" + line);
            } catch (Json.JsonException e) {
                throw new IllegalArgumentException(e.getMessage(), e);
            }
            if (v instanceof String text) v = new LinkedHashMap<>(Map.of("text", text));
            if (!(v instanceof Map<?, ?> m) || !(m.get("text") instanceof String)) {
                throw new IllegalArgumentException(file + ":" + line + ": expected {\"text\": ..., \"label\": ...}");
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> row = (Map<String, Object>) m;
            row.put("__line", (long) line);
            rows.add(row);
        }
        if (rows.isEmpty()) throw new IllegalArgumentException(file + ": no examples");
        return rows;
    }

    private static List<String> labels(Args a, BertConfig base, List<Map<String, Object>> rows, Path file) {
        if (a.has("labels")) return List.of(a.get("labels").split(","));
        if (!base.id2label().isEmpty() && base.architectures().stream().anyMatch(x -> String.valueOf(x).startsWith("Bert")
                && !"BertModel".equals(x) && !"BertForMaskedLM".equals(x))) {
            return new ArrayList<>(base.id2label().values());
        }
        TreeSet<String> names = new TreeSet<>();
        for (Map<String, Object> r : rows) {
            Object l = r.get("label");
            if (l == null) throw new IllegalArgumentException(file + ":" + r.get("__line") + ": no \"label\"");
            names.add(String.valueOf(l instanceof Number n ? n.longValue() : l));
        }
        return new ArrayList<>(names);
    }

    static List<Trainer.Example> examples(List<Map<String, Object>> rows, Map<String, Integer> ids, Path file, String task) {
        List<Trainer.Example> out = new ArrayList<>();
        for (Map<String, Object> r : rows) {
            Object pair = r.get("text_pair");
            String p = pair instanceof String ps ? ps : null;
            if (task.equals("mlm")) {
                out.add(new Trainer.Example((String) r.get("text"), p, Trainer.Example.NO_LABEL));
                continue;
            }
            Object l = r.get("label");
            Integer id = l instanceof String name ? ids.get(name) : null;
            if (id == null && l instanceof Number n && n.longValue() >= 0 && n.longValue() < ids.size()) id = (int) n.longValue();
            if (id == null) id = ids.get(String.valueOf(l instanceof Number n ? n.longValue() : l));
            if (id == null) throw new IllegalArgumentException(file + ":" + r.get("__line") + ": unknown label " + l + " (labels: " + ids.keySet() + ")");
            out.add(new Trainer.Example((String) r.get("text"), p, id));
        }
        return out;
    }
}
