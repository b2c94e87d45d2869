package example;

import dev.bertj.langchain4j.BertjEmbeddingModel;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.model.embedding.EmbeddingModel;

public class LangChain4jExample {
    public static void main(String[] args) {
        try (BertjEmbeddingModel bertj = BertjEmbeddingModel.allMiniLmL6V2()) { // was: new AllMiniLmL6V2EmbeddingModel()
            EmbeddingModel model = bertj;
            Embedding e = model.embed("bertj runs BERT in pure Java").content();
            double norm = 0;
            for (float x : e.vector()) norm += x * x;
            System.out.printf("langchain4j embedding of %d floats, norm %.4f%n", e.dimension(), Math.sqrt(norm));
        }
    }
}
