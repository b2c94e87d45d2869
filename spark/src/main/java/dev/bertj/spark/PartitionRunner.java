package dev.bertj.spark;

import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * One partition through the model: rows are read in chunks of {@value #CHUNK}, the chunk's texts go to
 * the model in one call (which sorts them by length and runs batches padded to their own longest), and
 * the rows come out in their order with the outputs appended. A null or empty text gets null outputs;
 * its row stays.
 *
 * <p>Rows stream: a partition of any size holds at most one chunk in memory. What is serialised into the
 * task is this object: a column index and the small {@link Compute}, never a model.
 */
final class PartitionRunner implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;
    /** Texts per model call: enough for length sorting to leave little padding, few enough to stream. */
    static final int CHUNK = 1024;

    /** The model's part: the outputs of each text, {@code outputs} values per text, in text order. */
    @FunctionalInterface
    interface Compute extends Serializable {
        Object[][] apply(List<String> texts);
    }

    private final int textIndex;
    private final int outputs;
    private final Compute compute;

    PartitionRunner(int textIndex, int outputs, Compute compute) {
        this.textIndex = textIndex;
        this.outputs = outputs;
        this.compute = compute;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> input) {
        return new Iterator<>() {
            private final List<Row> out = new ArrayList<>(CHUNK);
            private int next;

            @Override
            public boolean hasNext() {
                if (next < out.size()) return true;
                if (!input.hasNext()) return false;
                fill();
                return next < out.size();
            }

            @Override
            public Row next() {
                if (!hasNext()) throw new NoSuchElementException();
                return out.get(next++);
            }

            private void fill() {
                out.clear();
                next = 0;
                List<Row> rows = new ArrayList<>(CHUNK);
                List<String> texts = new ArrayList<>(CHUNK);
                List<Integer> at = new ArrayList<>(CHUNK);
                while (rows.size() < CHUNK && input.hasNext()) {
                    Row r = input.next();
                    String t = r.isNullAt(textIndex) ? null : r.getString(textIndex);
                    if (t != null && !t.isEmpty()) {
                        at.add(rows.size());
                        texts.add(t);
                    }
                    rows.add(r);
                }
                Object[][] values = new Object[rows.size()][];
                if (!texts.isEmpty()) {
                    Object[][] computed = compute.apply(texts);
                    for (int i = 0; i < computed.length; i++) values[at.get(i)] = computed[i];
                }
                for (int i = 0; i < rows.size(); i++) out.add(append(rows.get(i), values[i]));
            }
        };
    }

    private Row append(Row row, Object[] values) {
        int n = row.length();
        Object[] all = new Object[n + outputs];
        for (int i = 0; i < n; i++) all[i] = row.get(i);
        if (values != null) System.arraycopy(values, 0, all, n, outputs);
        return RowFactory.create(all);
    }
}
