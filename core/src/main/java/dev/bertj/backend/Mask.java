package dev.bertj.backend;

/** A dropout keep-mask (one flag per element) on a {@link Backend}'s device. */
public interface Mask {
    /** Number of flags. */
    int size();
}
