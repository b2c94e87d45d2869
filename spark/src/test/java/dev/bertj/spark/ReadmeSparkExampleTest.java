package dev.bertj.spark;

import example.SparkPipelineExample;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's "Run on Spark" program is this module's {@link SparkPipelineExample}, quoted verbatim
 * (the tests module's ReadmeSnippetsTest leaves Spark snippets to this test), and it runs.
 */
class ReadmeSparkExampleTest {
    @Test
    void theReadmeQuotesTheExampleAndItRuns() throws Exception {
        String readme = Files.readString(Path.of("../README.md"));
        String example = Files.readString(Path.of("src/test/java/example/SparkPipelineExample.java"));
        assertTrue(readme.contains("```java\n" + example + "```"), "README.md quotes src/test/java/example/SparkPipelineExample.java verbatim");

        Path in = Files.createTempFile("bertj-spark-readme", ".jsonl");
        Files.writeString(in, "{\"text\": \"bertj runs BERT in pure Java\"}\n{\"text\": \"on Spark executors\"}\n");
        Path out = Files.createTempDirectory("bertj-spark-readme").resolve("vectors");
        SparkFixtures.spark(); // the example's getOrCreate() finds the shared session
        SparkPipelineExample.main(new String[] {in.toString(), SparkFixtures.minilm().toString(), out.toString()});
        List<Row> rows = SparkFixtures.spark().read().parquet(out.toString()).collectAsList();
        assertEquals(2, rows.size());
        assertEquals(384, rows.get(0).getList(rows.get(0).fieldIndex("embedding")).size());
        assertEquals(1, PipelineModel.load(out + ".pipeline").stages().length);
    }
}
