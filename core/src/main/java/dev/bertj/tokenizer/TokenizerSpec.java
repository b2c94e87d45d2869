package dev.bertj.tokenizer;

import java.util.List;

/** Everything a {@link BertTokenizer} is made of, after loading and validation. */
record TokenizerSpec(Vocab vocab, String[] tokenTable, BertNormalizer normalizer, SpecialTokens special,
                     List<AddedTokens.Token> addedTokens, int modelMaxLength, int maxInputCharsPerWord,
                     int maxInputChars, boolean pairTypeIdsWithoutSpecials) {
}
