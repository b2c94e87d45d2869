package example;

import dev.bertj.api.SentenceEmbedder;

import java.util.List;

public class EmbedExample {
    public static void main(String[] args) throws Exception {
        try (SentenceEmbedder embedder = SentenceEmbedder.load("default")) { // all-MiniLM-L6-v2
            float[][] v = embedder.embed(List.of("The cat sits on the mat.", "A kitten is resting on a rug.", "Stock markets fell sharply today."));
            System.out.printf("%d vectors of %d floats%n", v.length, v[0].length);
            System.out.printf("cat~kitten %.3f, cat~stocks %.3f%n", dot(v[0], v[1]), dot(v[0], v[2])); // normalised: dot = cosine
        }
    }

    static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }
}
