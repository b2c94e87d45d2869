package dev.bertj.api;

import dev.bertj.tokenizer.BertTokenizer;
import dev.bertj.tokenizer.EncodeOptions;
import dev.bertj.tokenizer.Encoding;

import java.util.ArrayList;
import java.util.List;

/**
 * Long texts cut into parts the model can read ({@link SentenceEmbedder.Builder#partition}): each
 * text's word pieces in parts of at most {@code maxSegmentTokens}, a cut never placed before a
 * {@code ##} piece (so no word is split) unless a single word is longer than a part, each part
 * wrapped as {@code [CLS] part [SEP]}. A text's vector is the average of its parts' pooled vectors
 * weighted by each part's number of word pieces.
 */
final class Partition {
    private final List<int[]> segments = new ArrayList<>();
    private final List<Integer> weights = new ArrayList<>();
    private final int[] first;
    private final int[] count;

    private Partition(int texts) {
        first = new int[texts];
        count = new int[texts];
    }

    static Partition of(BertTokenizer tok, List<String> texts, int maxSegmentTokens) {
        List<Encoding> enc = tok.encodeBatch(texts, EncodeOptions.builder().addSpecialTokens(false).build());
        int cls = tok.specialTokens().clsId(), sep = tok.specialTokens().sepId();
        Partition p = new Partition(texts.size());
        for (int t = 0; t < texts.size(); t++) {
            Encoding e = enc.get(t);
            int[] ids = e.ids();
            String[] pieces = e.tokens();
            p.first[t] = p.segments.size();
            int start = 0;
            do { // an empty text is one empty part: [CLS] [SEP]
                int end = Math.min(start + maxSegmentTokens, ids.length);
                if (end < ids.length) {
                    int cut = end;
                    while (cut > start && pieces[cut].startsWith("##")) cut--;
                    if (cut > start) end = cut; // else one word fills the part: cut inside it
                }
                int[] seg = new int[end - start + 2];
                seg[0] = cls;
                System.arraycopy(ids, start, seg, 1, end - start);
                seg[seg.length - 1] = sep;
                p.segments.add(seg);
                p.weights.add(end - start);
                start = end;
            } while (start < ids.length);
            p.count[t] = p.segments.size() - p.first[t];
        }
        return p;
    }

    /** Every part of every text, as token ids with [CLS] and [SEP]. */
    List<int[]> segments() {
        return segments;
    }

    /** Text {@code t}'s vector: its parts' vectors averaged, weighted by their word pieces. */
    float[] combine(int t, float[][] segmentVectors, int h) {
        if (count[t] == 1) return segmentVectors[first[t]];
        double[] sum = new double[h];
        double total = 0;
        for (int s = first[t]; s < first[t] + count[t]; s++) {
            double w = weights.get(s);
            total += w;
            for (int i = 0; i < h; i++) sum[i] += w * segmentVectors[s][i];
        }
        float[] v = new float[h];
        for (int i = 0; i < h; i++) v[i] = (float) (sum[i] / total);
        return v;
    }

    /** Tokens the model read for text {@code t}: its parts, [CLS] and [SEP] included. */
    int tokensRead(int t) {
        int n = 0;
        for (int s = first[t]; s < first[t] + count[t]; s++) n += segments.get(s).length;
        return n;
    }
}
