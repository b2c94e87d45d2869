package dev.bertj.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.bertj.tokenizer.BertTokenizer;
import dev.bertj.tokenizer.EncodeOptions;
import dev.bertj.tokenizer.Encoding;
import dev.bertj.tokenizer.TokenizerException;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The tokenizer's files: vocab.txt, tokenizer.json and tokenizer_config.json each load or fail
 * naming the file; a tokenizer that loads finds every vocabulary token at its own id and encodes a
 * probe text within the contract of {@link EncodeFuzzTest#checkEncoding}.
 */
class TokenizerFilesFuzzTest {
    static final String PROBE = "Hello, wörld! [CLS] naïve 中文 \ud83d\ude00 x[SEP]y";
    static final String VOCAB = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\n,\n!\nw\n##o\n##r\n##l\n##d\nnaive\n\u4e2d\n\u6587\nx\ny\n";

    static {
        // Class loading and one-time tables are not the input's allocation: pay them before measuring.
        try {
            Path file = Contract.write("warm-up-vocab.txt", VOCAB.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            BertTokenizer.fromPretrained(file).encode(PROBE, "pair");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Loads {@code path}; checks the contract on failure, the tokenizer on success. */
    static void load(Path path, Path file, long inputBytes) throws IOException {
        long before = Contract.allocated();
        BertTokenizer tok = Contract.expect(() -> BertTokenizer.fromPretrained(path), file.toString(),
                IOException.class, IllegalArgumentException.class);
        // The trie and hash tables of a vocabulary are a few times its text.
        Contract.allocationWithin(before, Contract.BASE_ALLOWANCE + 512L * inputBytes, "loading " + file.getFileName());
        if (tok == null) return;
        List<String> tokens = tok.vocab().tokens();
        for (int i = 0; i < tokens.size(); i++) assertEquals(i, tok.tokenToId(tokens.get(i)), "token " + i);
        EncodeOptions opts = EncodeOptions.builder().truncation(EncodeOptions.Truncation.LONGEST_FIRST).maxLength(64).build();
        Encoding e = Contract.expect(() -> tok.encode(PROBE, "pair", opts), null, TokenizerException.class);
        if (e != null) EncodeFuzzTest.checkEncoding(tok, e, PROBE, "pair", opts);
    }

    @FuzzTest
    @Timeout(10)
    void vocabTxt(byte[] input) throws IOException {
        Path file = Contract.write("vocab.txt", input);
        Files.deleteIfExists(file.resolveSibling("tokenizer_config.json"));
        load(file, file, input.length);
    }

    @FuzzTest
    @Timeout(10)
    void tokenizerJson(byte[] input) throws IOException {
        Path file = Contract.write("tokenizer.json", input);
        Files.deleteIfExists(file.resolveSibling("tokenizer_config.json"));
        load(file, file, input.length);
    }

    @FuzzTest
    @Timeout(10)
    void tokenizerConfig(byte[] input) throws IOException {
        Path dir = Contract.dir("tokenizer.json");
        Files.writeString(dir.resolve("vocab.txt"), VOCAB);
        Path file = Contract.write("tokenizer_config.json", input);
        load(dir, file, input.length + VOCAB.length());
    }
}
