package dev.bertj.spark;

import dev.bertj.api.Classification;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.util.LongAccumulator;

import java.util.List;

/**
 * A Spark ML {@code Transformer} that appends a fine-tuned classifier's label and its probability to
 * each text, computed by bertj on the executors ({@link dev.bertj.api.TextClassifier}: the same answers
 * as {@code ./bertj classify}).
 * <pre>{@code
 * BertjClassifier spam = new BertjClassifier().setInputCol("text").setModel("/shared/models/spam");
 * Dataset<Row> labelled = spam.transform(emails);   // label: string, probability: float
 * }</pre>
 * The model is a checkpoint written by {@code ./bertj train} or any Hugging Face
 * {@code BertForSequenceClassification} directory; label names come from its config's {@code id2label}.
 * A null or empty text gets a null label and probability; the row stays. Model loading and shipping
 * work as for {@link BertjEmbedder}.
 */
public final class BertjClassifier extends BertjTransformer<BertjClassifier> {
    private static final long serialVersionUID = 1L;

    private final Param<String> labelCol;
    private final Param<String> probabilityCol;

    /** A classifier with a random uid and the defaults. */
    public BertjClassifier() {
        this(Identifiable.randomUID("bertjClassifier"));
    }

    /** A classifier with this uid (Spark's readers construct stages this way). */
    public BertjClassifier(String uid) {
        super(uid);
        labelCol = new Param<>(this, "labelCol", "the label column (string, from the model's id2label)");
        probabilityCol = new Param<>(this, "probabilityCol", "the column of the label's probability (float)");
        setDefault(labelCol, "label");
        setDefault(probabilityCol, "probability");
    }

    /** Reads a saved classifier (as {@code Pipeline.load} does for its stages). */
    public static MLReader<BertjClassifier> read() {
        return new DefaultParamsReader<>();
    }

    /** Loads a classifier saved with {@code save(path)}. */
    public static BertjClassifier load(String path) {
        return read().load(path);
    }

    /** The label column's param (default {@code label}). */
    public Param<String> labelCol() {
        return labelCol;
    }

    /** The probability column's param (default {@code probability}). */
    public Param<String> probabilityCol() {
        return probabilityCol;
    }

    /** The label column. */
    public String getLabelCol() {
        return $(labelCol);
    }

    /** The probability column. */
    public String getProbabilityCol() {
        return $(probabilityCol);
    }

    /** Sets the label column. */
    public BertjClassifier setLabelCol(String value) {
        set(labelCol, value);
        return this;
    }

    /** Sets the probability column. */
    public BertjClassifier setProbabilityCol(String value) {
        set(probabilityCol, value);
        return this;
    }

    @Override
    public BertjClassifier copy(ParamMap extra) {
        BertjClassifier c = defaultCopy(extra);
        return c.setLoadCounter(loadCounter());
    }

    @Override
    StructField[] outputFields() {
        return new StructField[] {DataTypes.createStructField(getLabelCol(), DataTypes.StringType, true),
                DataTypes.createStructField(getProbabilityCol(), DataTypes.FloatType, true)};
    }

    @Override
    ExecutorModels.Settings settings() {
        return new ExecutorModels.Settings("classifier", getModel(), null, null, getMaxLength(), getBatchSize());
    }

    @Override
    PartitionRunner.Compute compute() {
        return new Compute(settings(), loadCounter());
    }

    /** What a task runs: this JVM's shared classifier on a chunk of texts. */
    private record Compute(ExecutorModels.Settings settings, LongAccumulator loads) implements PartitionRunner.Compute {
        @Override
        public Object[][] apply(List<String> texts) {
            List<Classification> c = ExecutorModels.classifier(settings, loads).classify(texts);
            Object[][] out = new Object[c.size()][];
            for (int i = 0; i < out.length; i++) out[i] = new Object[] {c.get(i).label(), c.get(i).probability()};
            return out;
        }
    }
}
