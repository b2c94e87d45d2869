package example;

import dev.bertj.spark.BertjEmbedder;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

public class SparkPipelineExample {
    /** args: texts.jsonl ({"text": ...} per line), a model directory every executor can read, an output path. */
    public static void main(String[] args) throws Exception {
        SparkSession spark = SparkSession.builder().appName("embed e-mails").getOrCreate();
        Dataset<Row> emails = spark.read().json(args[0]);
        BertjEmbedder embedder = new BertjEmbedder()
                .setInputCol("text").setOutputCol("embedding")     // embedding: array<float>
                .setModel(args[1])                                 // or "spark-files:NAME" (see below)
                .setMaxLength(128).setBatchSize(32);
        PipelineModel pipeline = new Pipeline().setStages(new PipelineStage[] {embedder}).fit(emails);
        pipeline.transform(emails).write().parquet(args[2]);
        pipeline.write().overwrite().save(args[2] + ".pipeline");   // PipelineModel.load(...) reads it back
    }
}
