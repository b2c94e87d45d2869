package dev.bertj.spark;

import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.util.LongAccumulator;

import java.util.List;

/**
 * A Spark ML {@code Transformer} that appends a sentence embedding of a text column, computed by bertj
 * on the executors ({@link dev.bertj.api.SentenceEmbedder}: the same vectors as {@code ./bertj embed}
 * with the same settings).
 * <pre>{@code
 * BertjEmbedder embedder = new BertjEmbedder().setInputCol("text").setOutputCol("embedding")
 *         .setModel("/shared/models/all-MiniLM-L6-v2").setMaxLength(128);
 * Dataset<Row> vectors = embedder.transform(texts);   // embedding: array<float>
 * }</pre>
 *
 * <ul>
 *   <li>The output column is {@code array<float>}; {@code setOutputType("vector")} gives an ML
 *       {@code Vector} (doubles) instead, for Spark ML stages that want one.</li>
 *   <li>Pooling and normalisation default to the model's sentence-transformers files (mean, no
 *       normalisation without them), as in {@code SentenceEmbedder}; the setters override them.</li>
 *   <li>A null or empty text gives a null embedding; the row stays.</li>
 *   <li>Each executor JVM loads the model once (memory-mapped) and shares it across its tasks; see
 *       {@link #setModel(String)} for how executors find it.</li>
 * </ul>
 */
public final class BertjEmbedder extends BertjTransformer<BertjEmbedder> {
    private static final long serialVersionUID = 1L;

    private final Param<String> outputCol;
    private final Param<String> pooling;
    private final BooleanParam normalize;
    private final Param<String> outputType;

    /** An embedder with a random uid and the defaults. */
    public BertjEmbedder() {
        this(Identifiable.randomUID("bertjEmbedder"));
    }

    /** An embedder with this uid (Spark's readers construct stages this way). */
    public BertjEmbedder(String uid) {
        super(uid);
        outputCol = new Param<>(this, "outputCol", "the embedding column");
        pooling = new Param<>(this, "pooling", "mean, cls or max (default: the model's sentence-transformers files, else mean)",
                ParamValidators.inArray(List.of("mean", "cls", "max")));
        normalize = new BooleanParam(this, "normalize", "L2-normalise the vectors (default: the model's sentence-transformers files, else no)");
        outputType = new Param<>(this, "outputType", "array (array<float>) or vector (an ML Vector of doubles)",
                ParamValidators.inArray(List.of("array", "vector")));
        setDefault(outputCol, "embedding");
        setDefault(outputType, "array");
    }

    /** Reads a saved embedder (as {@code Pipeline.load} does for its stages). */
    public static MLReader<BertjEmbedder> read() {
        return new DefaultParamsReader<>();
    }

    /** Loads an embedder saved with {@code save(path)}. */
    public static BertjEmbedder load(String path) {
        return read().load(path);
    }

    /** The output column's param (default {@code embedding}). */
    public Param<String> outputCol() {
        return outputCol;
    }

    /** The pooling's param (no default: the model's own). */
    public Param<String> pooling() {
        return pooling;
    }

    /** The normalisation's param (no default: the model's own). */
    public BooleanParam normalize() {
        return normalize;
    }

    /** The output type's param (default {@code array}). */
    public Param<String> outputType() {
        return outputType;
    }

    /** The output column. */
    public String getOutputCol() {
        return $(outputCol);
    }

    /** Sets the output column. */
    public BertjEmbedder setOutputCol(String value) {
        set(outputCol, value);
        return this;
    }

    /** Sets the pooling: {@code mean}, {@code cls} or {@code max}. */
    public BertjEmbedder setPooling(String value) {
        set(pooling, value);
        return this;
    }

    /** Sets whether vectors are L2-normalised. */
    public BertjEmbedder setNormalize(boolean value) {
        set(normalize, value);
        return this;
    }

    /** Sets the output type: {@code array} ({@code array<float>}, the default) or {@code vector} (an ML {@code Vector}). */
    public BertjEmbedder setOutputType(String value) {
        set(outputType, value);
        return this;
    }

    @Override
    public BertjEmbedder copy(ParamMap extra) {
        BertjEmbedder c = defaultCopy(extra);
        return c.setLoadCounter(loadCounter());
    }

    @Override
    StructField[] outputFields() {
        boolean vector = $(outputType).equals("vector");
        return new StructField[] {DataTypes.createStructField(getOutputCol(),
                vector ? SQLDataTypes.VectorType() : DataTypes.createArrayType(DataTypes.FloatType, false), true)};
    }

    @Override
    ExecutorModels.Settings settings() {
        return new ExecutorModels.Settings("embedder", getModel(), isDefined(pooling) ? $(pooling) : null,
                isDefined(normalize) ? (Boolean) $(normalize) : null, getMaxLength(), getBatchSize());
    }

    @Override
    PartitionRunner.Compute compute() {
        return new Compute(settings(), loadCounter(), $(outputType).equals("vector"));
    }

    /** What a task runs: this JVM's shared embedder on a chunk of texts. */
    private record Compute(ExecutorModels.Settings settings, LongAccumulator loads, boolean vector) implements PartitionRunner.Compute {
        @Override
        public Object[][] apply(List<String> texts) {
            float[][] v = ExecutorModels.embedder(settings, loads).embed(texts);
            Object[][] out = new Object[v.length][];
            for (int i = 0; i < v.length; i++) {
                if (!vector) {
                    out[i] = new Object[] {v[i]};
                    continue;
                }
                double[] d = new double[v[i].length];
                for (int j = 0; j < d.length; j++) d[j] = v[i][j];
                out[i] = new Object[] {Vectors.dense(d)};
            }
            return out;
        }
    }
}
