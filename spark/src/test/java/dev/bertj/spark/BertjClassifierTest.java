package dev.bertj.spark;

import dev.bertj.io.Json;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link BertjClassifier} in the shared local[2] session against {@code ./bertj classify}. */
class BertjClassifierTest {
    @SuppressWarnings("unchecked")
    @Test
    void labelsEqualTheCommandLine() throws Exception {
        List<String> texts = SparkFixtures.texts();
        Path ckpt = SparkFixtures.classifier();
        Dataset<Row> out = new BertjClassifier().setInputCol("text").setModel(ckpt.toString()).setMaxLength(128).transform(SparkFixtures.frame(texts, 3));
        assertEquals(List.of("id", "text", "label", "probability"), Arrays.asList(out.schema().fieldNames()));
        String[] labels = new String[texts.size()];
        float[] probs = new float[texts.size()];
        for (Row r : out.select("id", "label", "probability").collectAsList()) {
            labels[r.getInt(0)] = r.getString(1);
            probs[r.getInt(0)] = r.getFloat(2);
        }
        List<String> cli = SparkFixtures.cli(texts, "classify", "--model", ckpt.toString(), "--max-length", "128");
        int spam = 0;
        double maxDiff = 0;
        for (int i = 0; i < texts.size(); i++) {
            Map<String, Object> row = (Map<String, Object>) Json.parse(cli.get(i));
            String label = (String) row.get("label");
            assertEquals(label, labels[i], "text " + i);
            double p = ((Number) ((Map<String, Object>) row.get("scores")).get(label)).doubleValue();
            maxDiff = Math.max(maxDiff, Math.abs(p - probs[i]));
            if (label.equals("spam")) spam++;
        }
        System.err.printf("BertjClassifierTest: %d texts, %d labelled spam, labels equal ./bertj classify, probability max abs diff %.3g%n",
                texts.size(), spam, maxDiff);
        assertTrue(maxDiff <= 1e-5, "probability max abs diff " + maxDiff);
        assertTrue(spam > 0 && spam < texts.size(), "both labels occur: " + spam);
    }

    @Test
    void nullAndEmptyTextsGiveNullLabels() throws Exception {
        StructType schema = new StructType().add("id", DataTypes.IntegerType, false).add("body", DataTypes.StringType, true);
        List<Row> rows = new ArrayList<>(List.of(RowFactory.create(0, "FREE money!!!"), RowFactory.create(1, null), RowFactory.create(2, "")));
        Dataset<Row> in = SparkFixtures.spark().createDataFrame(rows, schema).coalesce(1);
        List<Row> out = new BertjClassifier().setInputCol("body").setLabelCol("l").setProbabilityCol("p")
                .setModel(SparkFixtures.classifier().toString()).transform(in).collectAsList();
        assertEquals(3, out.size());
        assertTrue(List.of("ham", "spam").contains(out.get(0).getString(2)));
        for (int i = 1; i < 3; i++) {
            assertEquals(i, out.get(i).getInt(0));
            assertNull(out.get(i).get(2));
            assertNull(out.get(i).get(3));
        }
    }
}
