package dev.bertj.backend;

/**
 * Class labels for cross-entropy, as PyTorch's {@code F.cross_entropy}: one class index per row, or
 * {@link #IGNORE_INDEX} for a row that takes no part in the loss. Every backend checks labels here
 * before any arithmetic, so a bad label fails the same way on every device.
 */
public final class Labels {
    /** PyTorch's default ignore_index: a row with this label has no loss and no gradient. */
    public static final int IGNORE_INDEX = -100;

    private Labels() { }

    /**
     * Checks {@code labels[0, rows)} against {@code classes} and returns how many rows have a label.
     *
     * @throws IllegalArgumentException naming the first row whose label is neither a class nor {@link #IGNORE_INDEX}
     */
    public static int count(int[] labels, int rows, int classes) {
        if (labels.length < rows) throw new IllegalArgumentException(labels.length + " labels for " + rows + " rows");
        int counted = 0;
        for (int r = 0; r < rows; r++) {
            int y = labels[r];
            if (y == IGNORE_INDEX) continue;
            if (y < 0 || y >= classes) {
                throw new IllegalArgumentException("label " + y + " of row " + r + " is outside 0.." + (classes - 1) + " (or " + IGNORE_INDEX + " to ignore the row)");
            }
            counted++;
        }
        return counted;
    }
}
