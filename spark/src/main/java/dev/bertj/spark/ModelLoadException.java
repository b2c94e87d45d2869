package dev.bertj.spark;

/**
 * A bertj model that cannot be found or loaded on an executor (or on the driver, where it is checked
 * first), said in one sentence that names the model and the host.
 *
 * <p>It carries no stack trace: the sentence says all there is to say, and Spark logs a failed task's
 * exception once per attempt. The job's {@code SparkException} has it as its cause.
 */
public final class ModelLoadException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** An exception with this one-sentence message. */
    public ModelLoadException(String message) {
        super(message, null, false, false);
    }

    /** A fresh exception with the same sentence (one thrown object must not be shared between tasks). */
    ModelLoadException again() {
        return new ModelLoadException(getMessage());
    }
}
