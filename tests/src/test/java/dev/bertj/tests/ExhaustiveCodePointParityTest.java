package dev.bertj.tests;

import dev.bertj.tokenizer.BertTokenizer;
import dev.bertj.tokenizer.EncodeOptions;
import dev.bertj.tokenizer.Encoding;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every code point U+0000..U+10FFFF (surrogates excluded), alone and as "a" + c + "b", in the
 * uncased and the cased configuration: bertj's ids and offsets equal HF's.
 */
class ExhaustiveCodePointParityTest {
    private static final int CHUNK = 1 << 15;

    @ParameterizedTest(name = "cased={0}")
    @ValueSource(booleans = {false, true})
    void everyCodePoint(boolean cased) throws IOException {
        BertTokenizer tok = BertTokenizer.fromPretrained(cased ? HfOracle.casedTokenizerJson() : HfOracle.uncasedTokenizerJson());
        List<String> failures = new ArrayList<>();
        int checked = 0;
        try (HfOracle hf = HfOracle.builder().cased(cased).build()) {
            List<String> texts = new ArrayList<>(2 * CHUNK);
            for (int cp = 0; cp <= 0x10FFFF; cp++) {
                if (cp >= 0xD800 && cp <= 0xDFFF) continue;
                String c = Character.toString(cp);
                texts.add(c);
                texts.add("a" + c + "b");
                if (texts.size() >= 2 * CHUNK || cp == 0x10FFFF) {
                    List<HfOracle.Enc> want = hf.batchEncode(texts);
                    List<Encoding> got = tok.encodeBatch(texts, EncodeOptions.NONE);
                    for (int i = 0; i < texts.size(); i++) {
                        HfOracle.Enc w = want.get(i);
                        Encoding g = got.get(i);
                        if (!Parity.sameIds(w, g) || !java.util.Arrays.equals(w.offsetStart(), g.offsetStarts())
                                || !java.util.Arrays.equals(w.offsetEnd(), g.offsetEnds())) {
                            if (failures.size() < 40) {
                                failures.add(Parity.show(texts.get(i)) + " hf=" + java.util.Arrays.toString(w.tokens())
                                        + " bertj=" + java.util.Arrays.toString(g.tokens()));
                            } else if (failures.size() == 40) {
                                failures.add("...");
                            }
                        }
                    }
                    checked += texts.size();
                    texts.clear();
                }
            }
        }
        if (!failures.isEmpty()) fail("cased=" + cased + ": mismatches among " + checked + " texts:\n" + String.join("\n", failures));
        if (checked != 2 * (0x110000 - 0x800)) fail("checked " + checked + " texts");
    }
}
