package dev.bertj.spark;

import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.LongAccumulator;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * What {@link BertjEmbedder} and {@link BertjClassifier} share: the input column, the model, the
 * truncation length and the batch size, the driver-side check of the model, and the run over each
 * partition ({@code PartitionRunner}) with the model from the executor's {@code ExecutorModels}.
 *
 * <p>Only settings travel with the tasks; the weights never do. Both are {@code DefaultParamsWritable}:
 * a {@code Pipeline} holding them saves and loads its settings (the model stays a reference).
 *
 * @param <T> the concrete stage, so that the setters chain
 */
public abstract class BertjTransformer<T extends BertjTransformer<T>> extends Transformer implements DefaultParamsWritable {
    private static final long serialVersionUID = 1L;

    private final String uid;
    private final Param<String> inputCol;
    private final Param<String> model;
    private final IntParam maxLength;
    private final IntParam batchSize;
    /** Counts executor-side model loads; diagnostics only, not a saved setting. */
    private transient LongAccumulator loadCounter;

    BertjTransformer(String uid) {
        this.uid = uid;
        inputCol = new Param<>(this, "inputCol", "the text column (string); null and empty texts give null outputs");
        model = new Param<>(this, "model", "the model: a directory every executor can read, 'default' (all-MiniLM-L6-v2), "
                + "'bert-base-uncased', or spark-files:NAME for a directory shipped with SparkContext.addFile(dir, true)");
        maxLength = new IntParam(this, "maxLength", "truncate texts to this many tokens, special tokens included (0: the model's own limit)",
                ParamValidators.gtEq(0));
        batchSize = new IntParam(this, "batchSize", "texts per forward pass (length-sorted, padded to each batch's longest)",
                ParamValidators.gtEq(1));
        setDefault(inputCol, "text");
        setDefault(model, "default");
        setDefault(maxLength, 0);
        setDefault(batchSize, 32);
    }

    @Override
    public String uid() {
        return uid;
    }

    /** The text column's param (default {@code text}). */
    public Param<String> inputCol() {
        return inputCol;
    }

    /** The model's param (default {@code default}). */
    public Param<String> model() {
        return model;
    }

    /** The truncation length's param (default 0: the model's own). */
    public IntParam maxLength() {
        return maxLength;
    }

    /** The batch size's param (default 32). */
    public IntParam batchSize() {
        return batchSize;
    }

    /** The text column. */
    public String getInputCol() {
        return $(inputCol);
    }

    /** The model reference. */
    public String getModel() {
        return $(model);
    }

    /** The truncation length (0: the model's own). */
    public int getMaxLength() {
        return (Integer) $(maxLength);
    }

    /** Texts per forward pass. */
    public int getBatchSize() {
        return (Integer) $(batchSize);
    }

    /** Sets the text column. */
    public T setInputCol(String value) {
        set(inputCol, value);
        return self();
    }

    /**
     * Sets the model: a directory that every executor can read (a shared file system, or the same path
     * on every node), {@code default} (all-MiniLM-L6-v2) or {@code bert-base-uncased} (converted on each
     * executor from bertj's cache or the class path), or {@code spark-files:NAME}, a directory shipped
     * with {@code SparkContext.addFile(dir, true)} or {@code --archives model.zip#NAME}.
     */
    public T setModel(String value) {
        set(model, value);
        return self();
    }

    /** Truncates texts to this many tokens, special tokens included (0: the model's own limit). */
    public T setMaxLength(int value) {
        set(maxLength, value);
        return self();
    }

    /** Texts per forward pass (default 32). */
    public T setBatchSize(int value) {
        set(batchSize, value);
        return self();
    }

    /**
     * Counts each model load on the executors in {@code counter} (register it with
     * {@code sparkContext().longAccumulator(name)}): one per executor JVM when the model is shared as it
     * should be. Diagnostics only; not saved with the stage.
     */
    public T setLoadCounter(LongAccumulator counter) {
        this.loadCounter = counter;
        return self();
    }

    /** The output columns this stage appends, with their types. */
    abstract StructField[] outputFields();

    /** The settings a task needs to find this stage's model. */
    abstract ExecutorModels.Settings settings();

    /** The values of one chunk of texts (null where the text is null or empty), appended to the rows in this order. */
    abstract PartitionRunner.Compute compute();

    @Override
    public StructType transformSchema(StructType schema) {
        String col = getInputCol();
        if (!Arrays.asList(schema.fieldNames()).contains(col)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": the input column '" + col + "' does not exist; the columns are "
                    + String.join(", ", schema.fieldNames()));
        }
        if (!schema.apply(col).dataType().equals(DataTypes.StringType)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": the input column '" + col + "' must be a string, it is "
                    + schema.apply(col).dataType().simpleString());
        }
        StructType out = schema;
        for (StructField f : outputFields()) {
            if (Arrays.asList(schema.fieldNames()).contains(f.name())) {
                throw new IllegalArgumentException(getClass().getSimpleName() + ": the output column '" + f.name() + "' already exists");
            }
            out = out.add(f);
        }
        return out;
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType out = transformSchema(dataset.schema());
        checkModelOnDriver(dataset.sparkSession());
        int textIndex = dataset.schema().fieldIndex(getInputCol());
        PartitionRunner runner = new PartitionRunner(textIndex, outputFields().length, compute());
        return dataset.toDF().mapPartitions(runner, Encoders.row(out));
    }

    /**
     * Fails at once, on the driver, with one sentence when the model is a local path that is not a model
     * directory, instead of one task failure per partition. A path the driver cannot see is left to the
     * executors on a cluster (it may exist only there), not in local mode, where the driver is the executor.
     */
    private void checkModelOnDriver(SparkSession spark) {
        String m = getModel();
        if (m.equals("default") || m.equals("bert-base-uncased") || m.startsWith(ExecutorModels.SPARK_FILES)) return;
        Path dir = m.startsWith("file:") ? Path.of(java.net.URI.create(m)) : Path.of(m);
        if (!java.nio.file.Files.exists(dir) && !spark.sparkContext().isLocal()) return;
        ExecutorModels.checkModelDir(dir, m, "the driver");
    }

    @SuppressWarnings("unchecked")
    private T self() {
        return (T) this;
    }

    LongAccumulator loadCounter() {
        return loadCounter;
    }
}
