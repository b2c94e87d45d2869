package dev.bertj.spark;

import dev.bertj.api.SentenceEmbedder;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.LongAccumulator;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link BertjEmbedder} in the shared local[2] session against {@code ./bertj embed} and {@link SentenceEmbedder}. */
class BertjEmbedderTest {
    /** Embeddings by id, in id order. */
    private static float[][] byId(Dataset<Row> out, int n, String col) {
        float[][] v = new float[n][];
        for (Row r : out.select("id", col).collectAsList()) {
            int id = r.getInt(0);
            if (r.isNullAt(1)) continue;
            Object x = r.get(1);
            if (x instanceof Vector vec) {
                double[] d = vec.toArray();
                v[id] = new float[d.length];
                for (int i = 0; i < d.length; i++) v[id][i] = (float) d[i];
            } else {
                List<Float> l = r.getList(1);
                v[id] = new float[l.size()];
                for (int i = 0; i < l.size(); i++) v[id][i] = l.get(i);
            }
        }
        return v;
    }

    @Test
    void equalsTheCommandLineOnRealTexts() throws Exception {
        List<String> texts = SparkFixtures.texts();
        Path dir = SparkFixtures.minilm();
        LongAccumulator loads = SparkFixtures.spark().sparkContext().longAccumulator();
        // The CLI's defaults: mean pooling, no normalisation; truncated at 128 as MiniLM was trained.
        BertjEmbedder e = new BertjEmbedder().setInputCol("text").setOutputCol("vec").setModel(dir.toString())
                .setPooling("mean").setNormalize(false).setMaxLength(128).setLoadCounter(loads);
        Dataset<Row> out = e.transform(SparkFixtures.frame(texts, 4));
        assertEquals(List.of("id", "text", "vec"), Arrays.asList(out.schema().fieldNames()));
        assertEquals(DataTypes.createArrayType(DataTypes.FloatType, false), out.schema().apply("vec").dataType());
        float[][] spark = byId(out, texts.size(), "vec");
        float[][] cli = SparkFixtures.cliEmbed(texts, "embed", "--model", dir.toString(), "--max-length", "128");
        float max = 0;
        for (int i = 0; i < texts.size(); i++) max = Math.max(max, SparkFixtures.maxDiff(cli[i], spark[i]));
        System.err.printf("BertjEmbedderTest: %d real texts in 4 partitions vs ./bertj embed: max abs diff %.3g%n", texts.size(), max);
        assertTrue(max <= 1e-5f, "max abs diff " + max);
        // One JVM (local mode): the four tasks shared one model, loaded at most once by this setting.
        assertTrue(loads.value() <= 1, "model loads: " + loads.value());
    }

    @Test
    void modelDefaultsAndVectorOutputEqualSentenceEmbedder() throws Exception {
        List<String> texts = SparkFixtures.texts().subList(200, 260);
        Path dir = SparkFixtures.minilm();
        Dataset<Row> out = new BertjEmbedder().setModel(dir.toString()).setOutputType("vector").transform(SparkFixtures.frame(texts, 2));
        float[][] spark = byId(out, texts.size(), "embedding");
        try (SentenceEmbedder in = SentenceEmbedder.load(dir.toString())) {
            float[][] ref = in.embed(texts);
            float max = 0;
            for (int i = 0; i < texts.size(); i++) max = Math.max(max, SparkFixtures.maxDiff(ref[i], spark[i]));
            assertTrue(max <= 1e-5f, "max abs diff " + max);
        }
    }

    @Test
    void aDirectoryShippedWithAddFileIsFoundInSparkFiles() throws Exception {
        Path copy = Files.createTempDirectory("bertj-spark-ship").resolve("minilm-shipped");
        Path src = minilmPath();
        try (var files = Files.walk(src)) { // with 1_Pooling/ (sentence-transformers' pooling settings)
            for (Path f : files.sorted().toList()) Files.copy(f, copy.resolve(src.relativize(f).toString()));
        }
        SparkFixtures.spark().sparkContext().addFile(copy.toString(), true);
        List<String> texts = SparkFixtures.texts().subList(260, 270);
        Dataset<Row> out = new BertjEmbedder().setModel("spark-files:minilm-shipped").setPooling("mean").setNormalize(false).setMaxLength(128)
                .transform(SparkFixtures.frame(texts, 2));
        float[][] spark = byId(out, texts.size(), "embedding");
        try (SentenceEmbedder in = SentenceEmbedder.builder(minilmPath()).pooling(dev.bertj.api.Pooling.MEAN).normalize(false).maxLength(128).build()) {
            float[][] ref = in.embed(texts);
            for (int i = 0; i < texts.size(); i++) assertTrue(SparkFixtures.maxDiff(ref[i], spark[i]) <= 1e-5f);
        }
    }

    @Test
    void nullAndEmptyTextsGiveNullAndKeepTheirRows() {
        StructType schema = new StructType().add("id", DataTypes.IntegerType, false).add("text", DataTypes.StringType, true);
        List<Row> rows = new ArrayList<>(List.of(RowFactory.create(0, null), RowFactory.create(1, ""), RowFactory.create(2, "hello world"),
                RowFactory.create(3, null), RowFactory.create(4, " ")));
        Dataset<Row> in = SparkFixtures.spark().createDataFrame(rows, schema).coalesce(1);
        List<Row> out = new BertjEmbedder().setModel(minilm()).transform(in).collectAsList();
        assertEquals(5, out.size());
        for (int i = 0; i < 5; i++) assertEquals(i, out.get(i).getInt(0), "row order kept");
        assertNull(out.get(0).get(2));
        assertNull(out.get(1).get(2));
        assertNull(out.get(3).get(2));
        assertEquals(384, out.get(2).getList(2).size());
        assertEquals(384, out.get(4).getList(2).size(), "a blank (not empty) text is embedded as [CLS] [SEP]");
    }

    @Test
    void pipelineSavesAndLoads() throws Exception {
        Path where = Files.createTempDirectory("bertj-spark-pipeline");
        // The settings of equalsTheCommandLine (each distinct setting is one more model in this JVM).
        BertjEmbedder e = new BertjEmbedder().setInputCol("text").setOutputCol("e").setModel(minilm()).setPooling("mean")
                .setNormalize(false).setMaxLength(128).setBatchSize(32);
        Pipeline p = new Pipeline().setStages(new PipelineStage[] {e});
        p.write().overwrite().save(where.resolve("pipeline").toString());
        Pipeline back = Pipeline.load(where.resolve("pipeline").toString());
        BertjEmbedder e2 = (BertjEmbedder) back.getStages()[0];
        assertEquals(e.uid(), e2.uid());
        assertEquals(e.extractParamMap().toString(), e2.extractParamMap().toString());

        Dataset<Row> in = SparkFixtures.frame(SparkFixtures.texts().subList(250, 270), 2);
        PipelineModel fitted = p.fit(in);
        fitted.write().overwrite().save(where.resolve("model").toString());
        PipelineModel loaded = PipelineModel.load(where.resolve("model").toString());
        float[][] a = byId(fitted.transform(in), 20, "e"), b = byId(loaded.transform(in), 20, "e");
        for (int i = 0; i < 20; i++) assertArrayEquals(a[i], b[i]);

        e.save(where.resolve("stage").toString());
        BertjEmbedder e3 = BertjEmbedder.load(where.resolve("stage").toString());
        assertEquals("mean", e3.getOrDefault(e3.pooling()));
        assertEquals(false, e3.getOrDefault(e3.normalize()));
        assertTrue(e3.isSet(e3.batchSize()));
        assertEquals(128, e3.getMaxLength());
        assertEquals("e", e3.getOutputCol());
    }

    @Test
    void aMissingModelDirectoryFailsAtOnceWithOneSentence() throws Exception {
        String missing = Files.createTempDirectory("bertj-spark-none").resolve("no-such-model").toString();
        Dataset<Row> in = SparkFixtures.frame(List.of("a", "b"), 2);
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> new BertjEmbedder().setModel(missing).transform(in));
        System.err.println("BertjEmbedderTest, missing model: " + e.getMessage());
        assertTrue(e.getMessage().contains(missing) && e.getMessage().contains("does not exist"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void aBrokenModelFailsTheJobWithOneSentenceFromTheExecutor() throws Exception {
        // Looks like a model to the driver's check (config.json, model.safetensors), fails when loaded.
        Path broken = Files.createTempDirectory("bertj-spark-broken");
        Files.copy(minilmPath().resolve("config.json"), broken.resolve("config.json"));
        Files.write(broken.resolve("model.safetensors"), new byte[] {1, 2, 3});
        Dataset<Row> out = new BertjEmbedder().setModel(broken.toString()).transform(SparkFixtures.frame(List.of("a", "b", "c"), 3));
        Exception e = assertThrows(Exception.class, out::collectAsList);
        ModelLoadException cause = null;
        for (Throwable t = e; t != null; t = t.getCause()) if (t instanceof ModelLoadException m) cause = m;
        assertNotNull(cause, "the job's failure carries the executor's ModelLoadException: " + e);
        System.err.println("BertjEmbedderTest, broken model: " + cause.getMessage());
        assertTrue(cause.getMessage().contains(broken.toString()), cause.getMessage());
        assertFalse(cause.getMessage().contains("\n"), cause.getMessage());
        assertEquals(0, cause.getStackTrace().length, "one sentence, no executor stack trace");
        assertEquals(cause.getMessage(), EmbedJob.describe(e));
    }

    @Test
    void badColumnsAreNamed() {
        Dataset<Row> in = SparkFixtures.frame(List.of("a"), 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new BertjEmbedder().setInputCol("body").transform(in));
        assertTrue(e.getMessage().contains("'body'") && e.getMessage().contains("id, text"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new BertjEmbedder().setInputCol("id").transform(in));
        assertTrue(e.getMessage().contains("must be a string"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new BertjEmbedder().setOutputCol("id").transform(in));
        assertTrue(e.getMessage().contains("'id' already exists"), e.getMessage());
    }

    private static String minilm() {
        return minilmPath().toString();
    }

    private static Path minilmPath() {
        try {
            return SparkFixtures.minilm();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
