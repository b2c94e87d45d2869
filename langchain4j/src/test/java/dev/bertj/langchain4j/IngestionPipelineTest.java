package dev.bertj.langchain4j;

import dev.langchain4j.data.document.Document;
import dev.langchain4j.data.document.Metadata;
import dev.langchain4j.data.document.splitter.DocumentSplitters;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.store.embedding.EmbeddingMatch;
import dev.langchain4j.store.embedding.EmbeddingSearchRequest;
import dev.langchain4j.store.embedding.EmbeddingStoreIngestor;
import dev.langchain4j.store.embedding.inmemory.InMemoryEmbeddingStore;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * bertj inside a real langchain4j RAG pipeline: {@link EmbeddingStoreIngestor} splits five real
 * e-mails (SpamAssassin sample) into segments, embeds them with {@link BertjEmbeddingModel} and stores
 * them in an {@link InMemoryEmbeddingStore}; questions in other words than the e-mails' retrieve the
 * e-mail they are about.
 */
class IngestionPipelineTest {
    /** Sample index of each e-mail, by what it is about. */
    private static final Map<String, Integer> EMAILS = Map.of(
            "secondary DNS", 1, "crop circles", 3, "java", 6, "iraq", 41, "mobile blogging", 44);

    @Test
    void aQuestionRetrievesTheEmailItIsAbout() throws Exception {
        List<String> emails = RealTexts.emails();
        List<Document> docs = new ArrayList<>();
        EMAILS.forEach((topic, i) -> {
            String mail = emails.get(i);
            docs.add(Document.from(mail.substring(mail.indexOf("\n\n") + 2), Metadata.from("topic", topic)));
        });
        try (BertjEmbeddingModel model = BertjEmbeddingModel.allMiniLmL6V2()) {
            InMemoryEmbeddingStore<TextSegment> store = new InMemoryEmbeddingStore<>();
            EmbeddingStoreIngestor.builder().documentSplitter(DocumentSplitters.recursive(400, 40))
                    .embeddingModel(model).embeddingStore(store).build().ingest(docs);
            Map<String, String> questions = Map.of(
                    "who can host a backup name server for my web sites?", "secondary DNS",
                    "vote for the best corn field patterns said to be made by aliens", "crop circles",
                    "is Sun's programming language only good for browser applets?", "java",
                    "could a war to remove Saddam spread weapons to terrorists?", "iraq",
                    "a phone for posting to your weblog from anywhere", "mobile blogging");
            for (var q : questions.entrySet()) {
                List<EmbeddingMatch<TextSegment>> best = store.search(EmbeddingSearchRequest.builder()
                        .queryEmbedding(model.embed(q.getKey()).content()).maxResults(1).build()).matches();
                assertEquals(1, best.size());
                String got = best.getFirst().embedded().metadata().getString("topic");
                System.out.printf("IngestionPipelineTest: '%s' -> %s (score %.3f)%n", q.getKey(), got, best.getFirst().score());
                assertEquals(q.getValue(), got, "the question '" + q.getKey() + "'");
            }
            assertTrue(store.search(EmbeddingSearchRequest.builder().queryEmbedding(model.embed("x").content()).maxResults(100).build())
                    .matches().size() > docs.size(), "the splitter cut the e-mails into several segments");
        }
    }
}
