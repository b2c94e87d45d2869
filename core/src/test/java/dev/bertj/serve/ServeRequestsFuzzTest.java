package dev.bertj.serve;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.bertj.model.BertConfig;
import dev.bertj.model.BertForSequenceClassification;
import dev.bertj.tokenizer.BertTokenizer;
import dev.bertj.train.Checkpoint;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The server's request bodies, every POST route, through the same parse-then-run path an HTTP request
 * takes ({@link Routes#post}), on a tiny random classification checkpoint: any bytes give an answer or a
 * 4xx {@link ServeException} with a message (422 naming the field, 413, or 400 for a route this model
 * lacks); anything else, a 5xx type included, is a finding. After every input a probe request must get
 * the same answer it got first: a failed request never changes another's. The input is
 * {@code [route selector byte][body]}. It lives in this package to reach {@code Routes} without a socket;
 * the build's fuzz-regression run picks up every {@code *FuzzTest}.
 */
class ServeRequestsFuzzTest {
    static final String[] ROUTES = {"/embed", "/predict", "/tokenize", "/fill-mask", "/v1/embeddings"};
    static final byte[] PROBE = "{\"inputs\": [\"apple pear fig\", \"car\"], \"normalize\": true}".getBytes(StandardCharsets.UTF_8);
    static final Set<ServeException.Type> DOCUMENTED = Set.of(ServeException.Type.Validation, ServeException.Type.TooLarge,
            ServeException.Type.Unsupported);
    private static Routes routes;
    private static String probeAnswer;

    static synchronized Routes routes() {
        if (routes != null) return routes;
        try {
            List<String> tokens = new ArrayList<>(List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"));
            tokens.addAll(List.of("apple", "pear", "plum", "fig", "car", "bus", "train", "bike", "##s", "a", "b", "\u4e2d"));
            BertTokenizer tok = BertTokenizer.builder().tokens(tokens).build();
            BertConfig c = BertConfig.of(Map.of("vocab_size", (long) tokens.size(), "hidden_size", 16L, "num_hidden_layers", 2L,
                    "num_attention_heads", 2L, "intermediate_size", 24L, "max_position_embeddings", 32L));
            Path dir = Files.createTempDirectory("bertj-serve-fuzz");
            Checkpoint.save(dir, BertForSequenceClassification.of(c, Map.of(), 2, 7), tok);
            EmbeddingService s = EmbeddingService.load(dir, "tiny", EmbeddingService.Settings.defaults(), null);
            routes = new Routes(s, ServerConfig.defaults().withPayloadLimit(1 << 16));
            probeAnswer = routes.post("/embed", PROBE);
            return routes;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @FuzzTest
    @Timeout(20)
    void body(byte[] input) {
        Routes r = routes();
        String path = ROUTES[input.length == 0 ? 0 : (input[0] & 0xff) % ROUTES.length];
        byte[] body = input.length == 0 ? input : Arrays.copyOfRange(input, 1, input.length);
        try {
            String answer = r.post(path, body);
            assertTrue(answer.startsWith("[") || answer.startsWith("{"), path + " answered " + answer);
        } catch (ServeException e) {
            if (!DOCUMENTED.contains(e.type())) throw new AssertionError(path + ": " + e.type() + " for a request body: " + e.getMessage(), e);
            assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), "a message");
        }
        assertEquals(probeAnswer, r.post("/embed", PROBE), "the probe's answer after " + path);
    }
}
