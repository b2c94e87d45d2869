package dev.bertj.tokenizer;

/** A tokenizer file, setting or input is invalid; the message names the file, line or argument. */
public class TokenizerException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /** @param message what is wrong and where */
    public TokenizerException(String message) {
        super(message);
    }

    /** @param message what is wrong and where; @param cause the underlying failure */
    public TokenizerException(String message, Throwable cause) {
        super(message, cause);
    }
}
