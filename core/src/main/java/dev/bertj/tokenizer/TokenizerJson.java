package dev.bertj.tokenizer;

import dev.bertj.io.Json;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes HF's {@code tokenizer.json} (the Rust {@code tokenizers} serialization that
 * {@code BertTokenizerFast} saves) for a WordPiece BERT tokenizer: BertNormalizer,
 * BertPreTokenizer, the {@code [CLS] $A [SEP]} / {@code ... $B:1 [SEP]:1} template, the WordPiece
 * decoder and model, and the five special tokens as added tokens in id order. Truncation and
 * padding are {@code null}, as in a tokenizer saved without them set, so callers choose per call.
 *
 * <p>It is the inverse of what {@link BertTokenizer#fromPretrained} reads from a tokenizer.json,
 * for tokenizers without added tokens beyond the vocabulary (such as one read from a vocab.txt).
 */
public final class TokenizerJson {
    private TokenizerJson() { }

    /** The tokenizer.json text for {@code tok}, 2-space indented like HF's {@code save_pretrained}. */
    public static String of(BertTokenizer tok) {
        SpecialTokens s = tok.specialTokens();
        BertNormalizer n = tok.normalizer();
        Vocab vocab = tok.vocab();
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("version", "1.0");
        root.put("truncation", null);
        root.put("padding", null);

        TreeMap<Integer, String> special = new TreeMap<>();
        special.put(s.padId(), s.pad());
        special.put(s.unkId(), s.unk());
        special.put(s.clsId(), s.cls());
        special.put(s.sepId(), s.sep());
        special.put(s.maskId(), s.mask());
        List<Object> added = new ArrayList<>();
        for (Map.Entry<Integer, String> e : special.entrySet()) {
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("id", (long) e.getKey());
            t.put("content", e.getValue());
            t.put("single_word", false);
            t.put("lstrip", false);
            t.put("rstrip", false);
            t.put("normalized", false);
            t.put("special", true);
            added.add(t);
        }
        root.put("added_tokens", added);

        Map<String, Object> norm = new LinkedHashMap<>();
        norm.put("type", "BertNormalizer");
        norm.put("clean_text", n.cleanText());
        norm.put("handle_chinese_chars", n.handleChineseChars());
        norm.put("strip_accents", n.stripAccents());
        norm.put("lowercase", n.lowercase());
        root.put("normalizer", norm);
        root.put("pre_tokenizer", Map.of("type", "BertPreTokenizer"));

        Map<String, Object> post = new LinkedHashMap<>();
        post.put("type", "TemplateProcessing");
        List<Object> single = List.of(specialPiece(s.cls(), 0), sequence("A", 0), specialPiece(s.sep(), 0));
        List<Object> pair = new ArrayList<>(single);
        pair.add(sequence("B", 1));
        pair.add(specialPiece(s.sep(), 1));
        post.put("single", single);
        post.put("pair", pair);
        Map<String, Object> specials = new LinkedHashMap<>();
        specials.put(s.cls(), specialTokenIds(s.cls(), s.clsId()));
        specials.put(s.sep(), specialTokenIds(s.sep(), s.sepId()));
        post.put("special_tokens", specials);
        root.put("post_processor", post);

        Map<String, Object> decoder = new LinkedHashMap<>();
        decoder.put("type", "WordPiece");
        decoder.put("prefix", vocab.continuingPrefix());
        decoder.put("cleanup", true);
        root.put("decoder", decoder);

        Map<String, Object> model = new LinkedHashMap<>();
        model.put("type", "WordPiece");
        model.put("unk_token", s.unk());
        model.put("continuing_subword_prefix", vocab.continuingPrefix());
        model.put("max_input_chars_per_word", (long) tok.maxInputCharsPerWord());
        Map<String, Object> ids = new LinkedHashMap<>();
        for (int id = 0; id < vocab.size(); id++) ids.put(vocab.token(id), (long) id); // id order, as HF writes it
        model.put("vocab", ids);
        root.put("model", model);
        return Json.writePretty(root) + "\n";
    }

    private static Map<String, Object> specialPiece(String token, int typeId) {
        Map<String, Object> inner = new LinkedHashMap<>();
        inner.put("id", token);
        inner.put("type_id", (long) typeId);
        return Map.of("SpecialToken", inner);
    }

    private static Map<String, Object> sequence(String id, int typeId) {
        Map<String, Object> inner = new LinkedHashMap<>();
        inner.put("id", id);
        inner.put("type_id", (long) typeId);
        return Map.of("Sequence", inner);
    }

    private static Map<String, Object> specialTokenIds(String token, int id) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", token);
        m.put("ids", List.of((long) id));
        m.put("tokens", List.of(token));
        return m;
    }
}
