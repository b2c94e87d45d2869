package dev.bertj.tokenizer;

import dev.bertj.io.Json;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reads tokenizer files: a model directory, a bare {@code vocab.txt}, or a {@code tokenizer.json}.
 * Anything bertj cannot reproduce exactly is refused with a message naming the file and field,
 * rather than tokenized differently.
 */
final class TokenizerLoader {
    private TokenizerLoader() { }

    static TokenizerSpec load(Path path, int maxInputChars) throws IOException {
        if (Files.isDirectory(path)) {
            Path json = path.resolve("tokenizer.json");
            Path vocab = path.resolve("vocab.txt");
            Path config = path.resolve("tokenizer_config.json");
            if (Files.isRegularFile(json)) return fromTokenizerJson(json, config, maxInputChars);
            if (Files.isRegularFile(vocab)) return fromVocabTxt(vocab, config, maxInputChars);
            throw new TokenizerException(path + ": directory has neither tokenizer.json nor vocab.txt");
        }
        if (!Files.exists(path)) throw new NoSuchFileException(path.toString(), null, "tokenizer file not found");
        Path sibling = path.toAbsolutePath().resolveSibling("tokenizer_config.json");
        if (path.getFileName().toString().endsWith(".json")) return fromTokenizerJson(path, sibling, maxInputChars);
        return fromVocabTxt(path, sibling, maxInputChars);
    }

    /**
     * Largest tokenizer file read: 512 MiB. The biggest real ones (multilingual tokenizer.json) are
     * tens of MB; a larger file is read into memory whole, so it is refused before reading.
     */
    static final long MAX_FILE_BYTES = 512L << 20;
    /**
     * Largest vocabulary: 2^24 = 16,777,216 tokens (real BERT vocabularies have 30k-250k). Ids index
     * arrays sized by it, so a count from a file is checked before they are allocated.
     */
    static final int MAX_VOCAB_SIZE = 1 << 24;

    static String readUtf8(Path file) throws IOException {
        long size = Files.size(file);
        if (size > MAX_FILE_BYTES) {
            throw new TokenizerException(String.format("%s: %,d bytes is more than the limit of %,d bytes for a tokenizer file",
                    file, size, MAX_FILE_BYTES));
        }
        byte[] bytes = Files.readAllBytes(file);
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new TokenizerException(file + ": not valid UTF-8", e);
        }
    }

    private static TokenizerSpec fromVocabTxt(Path file, Path configFile, int maxInputChars) throws IOException {
        String text = readUtf8(file);
        List<String> tokens = new ArrayList<>();
        int line = 0;
        for (int start = 0; start < text.length(); ) {
            int nl = text.indexOf('\n', start);
            int end = nl < 0 ? text.length() : nl;
            line++;
            String token = text.substring(start, end).stripTrailing();
            if (token.isEmpty()) throw new TokenizerException(file + ":" + line + ": empty token");
            if (line > MAX_VOCAB_SIZE) {
                throw new TokenizerException(String.format("%s:%d: more than the limit of %,d tokens", file, line, MAX_VOCAB_SIZE));
            }
            tokens.add(token);
            start = end + 1;
        }
        if (tokens.isEmpty()) throw new TokenizerException(file + ": the vocabulary is empty");
        Vocab vocab = new Vocab(tokens.toArray(String[]::new), "##", file.toString());
        Config c = Config.read(configFile);
        BertNormalizer norm = new BertNormalizer(true, c.tokenizeChineseChars, c.stripAccents, c.doLowerCase);
        return spec(vocab, tokens.toArray(String[]::new), norm, c.unk, c.sep, c.pad, c.cls, c.mask, List.of(),
                c.modelMaxLength, 100, maxInputChars, true, file.toString(), c::origin);
    }

    private static TokenizerSpec fromTokenizerJson(Path file, Path configFile, int maxInputChars) throws IOException {
        String src = file.toString();
        Map<String, Object> root = Json.asObject(Json.parse(readUtf8(file), src), src);
        Map<String, Object> model = Json.asObject(root.get("model"), src + ": model");
        String type = String.valueOf(model.get("type"));
        if (!"WordPiece".equals(type)) {
            throw new TokenizerException(src + ": unsupported tokenizer.json: model type '" + type
                    + "' (bertj reads WordPiece BERT tokenizers)");
        }
        String prefix = model.containsKey("continuing_subword_prefix")
                ? Json.asString(model.get("continuing_subword_prefix"), src + ": model.continuing_subword_prefix") : "##";
        long maxWord = model.containsKey("max_input_chars_per_word")
                ? Json.asLong(model.get("max_input_chars_per_word"), src + ": model.max_input_chars_per_word") : 100;
        if (maxWord <= 0) {
            throw new TokenizerException(src + ": model.max_input_chars_per_word must be positive, got " + maxWord);
        }
        String unk = Json.asString(model.get("unk_token"), src + ": model.unk_token");

        Map<String, Object> vocabJson = Json.asObject(model.get("vocab"), src + ": model.vocab");
        if (vocabJson.size() > MAX_VOCAB_SIZE) {
            throw new TokenizerException(String.format("%s: model.vocab has %,d tokens, more than the limit of %,d",
                    src, vocabJson.size(), MAX_VOCAB_SIZE));
        }
        String[] byId = new String[vocabJson.size()];
        for (Map.Entry<String, Object> e : vocabJson.entrySet()) {
            long id = Json.asLong(e.getValue(), src + ": model.vocab[" + e.getKey() + "]");
            if (id < 0 || id >= byId.length) {
                throw new TokenizerException(src + ": model.vocab: token '" + e.getKey() + "' has id " + id
                        + ", outside 0.." + (byId.length - 1) + " (ids must be dense)");
            }
            if (byId[(int) id] != null) {
                throw new TokenizerException(src + ": model.vocab: tokens '" + byId[(int) id] + "' and '" + e.getKey()
                        + "' share id " + id);
            }
            byId[(int) id] = e.getKey();
        }
        Vocab vocab = new Vocab(byId, prefix, src + ": model.vocab");

        BertNormalizer norm = normalizer(root.get("normalizer"), src);
        Object pre = root.get("pre_tokenizer");
        String preType = pre == null ? "null" : String.valueOf(Json.asObject(pre, src + ": pre_tokenizer").get("type"));
        if (!"BertPreTokenizer".equals(preType)) {
            throw new TokenizerException(src + ": unsupported tokenizer.json: pre_tokenizer '" + preType
                    + "' (bertj reads BertPreTokenizer)");
        }
        String[] clsSep = new String[2];
        long[] clsSepIds = {-1, -1};
        boolean templateTypes = postProcessor(root.get("post_processor"), src, clsSep, clsSepIds);

        List<AddedTokens.Token> added = new ArrayList<>();
        List<String> table = new ArrayList<>(List.of(byId));
        Object addedJson = root.get("added_tokens");
        if (addedJson != null) {
            for (Object o : Json.asArray(addedJson, src + ": added_tokens")) {
                Map<String, Object> t = Json.asObject(o, src + ": added_tokens[]");
                String content = Json.asString(t.get("content"), src + ": added_tokens[].content");
                long id = Json.asLong(t.get("id"), src + ": added_tokens[" + content + "].id");
                for (String flag : List.of("single_word", "lstrip", "rstrip", "normalized")) {
                    if (Boolean.TRUE.equals(t.get(flag))) {
                        throw new TokenizerException(src + ": unsupported tokenizer.json: added token '" + content
                                + "' has " + flag + "=true (bertj matches added tokens in the raw text only)");
                    }
                }
                if (id < 0) {
                    throw new TokenizerException(src + ": added token '" + content + "' has id " + id + "; ids are not negative");
                } else if (id < byId.length) {
                    if (!byId[(int) id].equals(content)) {
                        throw new TokenizerException(src + ": added token '" + content + "' has id " + id
                                + ", which the vocab gives to '" + byId[(int) id] + "'");
                    }
                } else if (id == table.size()) {
                    table.add(content);
                } else {
                    throw new TokenizerException(src + ": added token '" + content + "' has id " + id
                            + "; expected " + table.size() + " (added ids must follow the vocab densely, in order)");
                }
                added.add(new AddedTokens.Token(content, (int) id));
            }
        }
        Config c = Config.read(configFile);
        String pad = c.padSet ? c.pad : padToken(root.get("padding"), src, c.pad);
        TokenizerSpec spec = spec(vocab, table.toArray(String[]::new), norm, unk, clsSep[1], pad, clsSep[0], c.mask, added,
                c.modelMaxLength, (int) Math.min(maxWord, Integer.MAX_VALUE), maxInputChars, templateTypes, src,
                role -> role.equals("pad_token") || role.equals("mask_token") ? c.origin(role) : "");
        checkProcessorIds(src, clsSep, clsSepIds, spec.special());
        return spec;
    }

    private static BertNormalizer normalizer(Object json, String src) {
        if (json == null) return new BertNormalizer(false, false, false, false);
        Map<String, Object> n = Json.asObject(json, src + ": normalizer");
        String type = String.valueOf(n.get("type"));
        if (!"BertNormalizer".equals(type)) {
            throw new TokenizerException(src + ": unsupported tokenizer.json: normalizer '" + type
                    + "' (bertj reads BertNormalizer)");
        }
        Object strip = n.get("strip_accents");
        return new BertNormalizer(
                n.get("clean_text") == null || Json.asBoolean(n.get("clean_text"), src + ": normalizer.clean_text"),
                n.get("handle_chinese_chars") == null || Json.asBoolean(n.get("handle_chinese_chars"), src + ": normalizer.handle_chinese_chars"),
                strip == null ? null : Json.asBoolean(strip, src + ": normalizer.strip_accents"),
                n.get("lowercase") == null || Json.asBoolean(n.get("lowercase"), src + ": normalizer.lowercase"));
    }

    /**
     * BertProcessing names each special token with its id: bertj looks the token up in the vocabulary,
     * so an id that disagrees would make different ids than HF; refused.
     */
    private static void checkProcessorIds(String src, String[] clsSep, long[] ids, SpecialTokens special) {
        int[] actual = {special.clsId(), special.sepId()};
        String[] field = {"cls", "sep"};
        for (int k = 0; k < 2; k++) {
            if (ids[k] >= 0 && ids[k] != actual[k]) {
                throw new TokenizerException(src + ": post_processor." + field[k] + " gives '" + clsSep[k] + "' the id " + ids[k]
                        + ", but the vocabulary gives it " + actual[k]);
            }
        }
    }

    /** BertProcessing's {@code ["[CLS]", 101]}: the token, and its id into {@code ids[k]}. */
    private static String processorToken(Object json, String src, String field, long[] ids, int k) {
        List<Object> pair = Json.asArray(json, src + ": post_processor." + field);
        if (pair.size() != 2) {
            throw new TokenizerException(src + ": post_processor." + field + " must be [token, id], got " + pair.size() + " items");
        }
        ids[k] = Json.asLong(pair.get(1), src + ": post_processor." + field + "[1]");
        return Json.asString(pair.get(0), src + ": post_processor." + field + "[0]");
    }

    /** Reads [CLS]/[SEP] from the post-processor; returns whether pair type ids are set without special tokens. */
    private static boolean postProcessor(Object json, String src, String[] clsSep, long[] clsSepIds) {
        clsSep[0] = "[CLS]";
        clsSep[1] = "[SEP]";
        if (json == null) {
            throw new TokenizerException(src + ": unsupported tokenizer.json: no post_processor (bertj needs BERT's [CLS]/[SEP] template)");
        }
        Map<String, Object> p = Json.asObject(json, src + ": post_processor");
        String type = String.valueOf(p.get("type"));
        switch (type) {
            case "BertProcessing" -> {
                clsSep[0] = processorToken(p.get("cls"), src, "cls", clsSepIds, 0);
                clsSep[1] = processorToken(p.get("sep"), src, "sep", clsSepIds, 1);
                return false;
            }
            case "TemplateProcessing" -> {
                List<Object> single = Json.asArray(p.get("single"), src + ": post_processor.single");
                List<Object> pair = Json.asArray(p.get("pair"), src + ": post_processor.pair");
                String s = templateString(single, src), pr = templateString(pair, src);
                if (single.size() != 3 || pair.size() != 5) {
                    throw new TokenizerException(src + ": unsupported tokenizer.json: post_processor template '" + s + "' / '" + pr
                            + "' is not BERT's '[CLS]:0 $A:0 [SEP]:0' / '... $B:1 [SEP]:1'");
                }
                String cls = specialId(single.get(0), src), sep = specialId(single.get(2), src);
                String expectSingle = cls + ":0 $A:0 " + sep + ":0";
                String expectPair = expectSingle + " $B:1 " + sep + ":1";
                if (!s.equals(expectSingle) || !pr.equals(expectPair)) {
                    throw new TokenizerException(src + ": unsupported tokenizer.json: post_processor template '" + s + "' / '" + pr
                            + "' is not BERT's '" + expectSingle + "' / '" + expectPair + "'");
                }
                clsSep[0] = cls;
                clsSep[1] = sep;
                return true;
            }
            default -> throw new TokenizerException(src + ": unsupported tokenizer.json: post_processor '" + type
                    + "' (bertj reads BertProcessing or BERT's TemplateProcessing)");
        }
    }

    private static String specialId(Object piece, String src) {
        Map<String, Object> m = Json.asObject(piece, src + ": post_processor template piece");
        Object sp = m.get("SpecialToken");
        if (sp == null) return "?";
        return Json.asString(Json.asObject(sp, src + ": SpecialToken").get("id"), src + ": SpecialToken.id");
    }

    private static String templateString(List<Object> pieces, String src) {
        StringBuilder sb = new StringBuilder();
        for (Object o : pieces) {
            Map<String, Object> m = Json.asObject(o, src + ": post_processor template piece");
            if (!sb.isEmpty()) sb.append(' ');
            if (m.get("Sequence") != null) {
                Map<String, Object> s = Json.asObject(m.get("Sequence"), src + ": Sequence");
                sb.append('$').append(s.get("id")).append(':').append(s.get("type_id"));
            } else if (m.get("SpecialToken") != null) {
                Map<String, Object> s = Json.asObject(m.get("SpecialToken"), src + ": SpecialToken");
                sb.append(s.get("id")).append(':').append(s.get("type_id"));
            } else {
                sb.append(m);
            }
        }
        return sb.toString();
    }

    private static String padToken(Object padding, String src, String fallback) {
        if (padding == null) return fallback;
        Object tok = Json.asObject(padding, src + ": padding").get("pad_token");
        return tok == null ? fallback : Json.asString(tok, src + ": padding.pad_token");
    }

    static TokenizerSpec spec(Vocab vocab, String[] table, BertNormalizer norm, String unk, String sep, String pad,
                              String cls, String mask, List<AddedTokens.Token> added, int modelMaxLength,
                              int maxWord, int maxInputChars, boolean templateTypes, String src,
                              java.util.function.Function<String, String> origin) {
        int[] ids = new int[5];
        String[] names = {unk, sep, pad, cls, mask};
        String[] roles = {"unk_token", "sep_token", "pad_token", "cls_token", "mask_token"};
        for (int i = 0; i < 5; i++) {
            ids[i] = vocab.id(names[i]);
            if (ids[i] < 0) {
                for (int k = vocab.size(); k < table.length; k++) if (table[k].equals(names[i])) ids[i] = k;
            }
            if (ids[i] < 0) {
                throw new TokenizerException(src + ": the vocabulary has no " + roles[i] + " '" + names[i] + "'" + origin.apply(roles[i]));
            }
        }
        List<AddedTokens.Token> all = new ArrayList<>(added);
        if (added.isEmpty()) {
            // A vocab.txt tokenizer: HF registers the special tokens as added tokens, matched in raw text.
            for (int i = 0; i < 5; i++) all.add(new AddedTokens.Token(names[i], ids[i]));
        }
        SpecialTokens special = new SpecialTokens(unk, sep, pad, cls, mask, ids[0], ids[1], ids[2], ids[3], ids[4]);
        return new TokenizerSpec(vocab, table, norm, special, List.copyOf(all), modelMaxLength, maxWord, maxInputChars, templateTypes);
    }

    /**
     * A model_max_length from a file: {@link Integer#MAX_VALUE} for HF's "no limit" (it writes int(1e30),
     * and anything from 2^31 - 1 up reads the same), else a positive length up to {@link
     * EncodeOptions#MAX_LENGTH_LIMIT}. Values in between (1e8, 2^31 - 2) would make padding to
     * max_length allocate gigabytes, so they are refused rather than taken as a length.
     */
    static int modelMaxLength(double v, String what) {
        if (!(v > 0)) throw new TokenizerException(what + " must be positive, got " + v);
        if (v >= Integer.MAX_VALUE) return Integer.MAX_VALUE;
        if (v > EncodeOptions.MAX_LENGTH_LIMIT || v != Math.rint(v)) {
            throw new TokenizerException(String.format("%s is %s; it must be a whole number of tokens up to the limit of %,d"
                    + " (EncodeOptions.MAX_LENGTH_LIMIT), or at least 2^31 - 1 for no limit (HF writes 1e30)",
                    what, v == Math.rint(v) ? String.format("%,.0f", v) : Double.toString(v), EncodeOptions.MAX_LENGTH_LIMIT));
        }
        return (int) v;
    }

    /** The parts of tokenizer_config.json bertj uses, with BERT's defaults when the file is absent. */
    private static final class Config {
        boolean doLowerCase = true;
        Boolean stripAccents;
        boolean tokenizeChineseChars = true;
        int modelMaxLength = Integer.MAX_VALUE;
        String unk = "[UNK]", sep = "[SEP]", pad = "[PAD]", cls = "[CLS]", mask = "[MASK]";
        boolean padSet;
        /** The file read and the special-token keys it set, to name it when one of them is not in the vocabulary. */
        String source;
        final java.util.Set<String> setTokens = new java.util.HashSet<>();

        /** " (set in FILE)" when the file set this special token's name, else "". */
        String origin(String role) {
            return setTokens.contains(role) ? " (set in " + source + ")" : "";
        }

        static Config read(Path file) throws IOException {
            Config c = new Config();
            if (file == null || !Files.isRegularFile(file)) return c;
            String src = file.toString();
            c.source = src;
            Map<String, Object> m = Json.asObject(Json.parse(readUtf8(file), src), src);
            for (String role : List.of("unk_token", "sep_token", "pad_token", "cls_token", "mask_token")) {
                if (m.get(role) != null) c.setTokens.add(role);
            }
            if (m.get("do_lower_case") != null) c.doLowerCase = Json.asBoolean(m.get("do_lower_case"), src + ": do_lower_case");
            if (m.get("strip_accents") != null) c.stripAccents = Json.asBoolean(m.get("strip_accents"), src + ": strip_accents");
            if (m.get("tokenize_chinese_chars") != null) {
                c.tokenizeChineseChars = Json.asBoolean(m.get("tokenize_chinese_chars"), src + ": tokenize_chinese_chars");
            }
            if (m.get("model_max_length") != null) {
                double v = Json.asDouble(m.get("model_max_length"), src + ": model_max_length");
                c.modelMaxLength = modelMaxLength(v, src + ": model_max_length");
            }
            c.unk = token(m, "unk_token", c.unk, src);
            c.sep = token(m, "sep_token", c.sep, src);
            c.padSet = m.get("pad_token") != null;
            c.pad = token(m, "pad_token", c.pad, src);
            c.cls = token(m, "cls_token", c.cls, src);
            c.mask = token(m, "mask_token", c.mask, src);
            return c;
        }

        private static String token(Map<String, Object> m, String key, String dflt, String src) {
            Object v = m.get(key);
            if (v == null) return dflt;
            if (v instanceof Map<?, ?> obj) return Json.asString(obj.get("content"), src + ": " + key + ".content");
            return Json.asString(v, src + ": " + key);
        }
    }
}
