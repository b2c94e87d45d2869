package dev.bertj.model;

/**
 * Activation buffers of one inference forward pass, kept per thread and reused, so a steady stream
 * of batches allocates only the outputs it returns. Buffers grow to the largest batch seen and
 * hold stale values between calls: every user overwrites what it reads.
 * <pre>
 * at B x S = n rows: hidden 2 x n x H (ping-pong between layers), qkv n x 3H, context and
 * attended n x H each, mid n x I; MiniLM at 32 x 128: 2 x 6.3 + 18.9 + 2 x 6.3 + 25.2 = 69 MB
 * </pre>
 */
final class Workspace {
    float[] hiddenA = new float[0], hiddenB = new float[0], qkv = new float[0];
    float[] context = new float[0], attended = new float[0], mid = new float[0];

    /** Makes every buffer large enough for {@code rows} rows of this config. */
    Workspace fit(BertConfig c, int rows) {
        int h = c.hiddenSize(), n = rows * h;
        if (hiddenA.length < n) {
            hiddenA = new float[n];
            hiddenB = new float[n];
            context = new float[n];
            attended = new float[n];
            qkv = new float[3 * n];
        }
        if (mid.length < rows * c.intermediateSize()) mid = new float[rows * c.intermediateSize()];
        return this;
    }
}
