package dev.bertj.serve;

/**
 * A request the service refuses or could not serve, with TEI's error type and HTTP status. The
 * message is meant for the client as is: it names the field at fault and never carries a stack trace.
 */
public final class ServeException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** TEI's {@code error_type}s, with the status each is answered with. */
    public enum Type {
        /** Invalid input: a wrong type, an unknown field, an empty input, bad UTF-8 (422). */
        Validation(422),
        /** A payload, batch or input larger than the server's limits (413). */
        TooLarge(413),
        /** {@code --max-concurrent-requests} reached (429). */
        Overloaded(429),
        /** The model failed on this request's batch (424, TEI's status for backend failures). */
        Backend(424),
        /** The route needs a head this model does not have (400). */
        Unsupported(400),
        /** Missing or wrong API key (401). */
        Unauthorized(401),
        /** No such route (404). */
        NotFound(404),
        /** A known route called with the wrong method (405). */
        MethodNotAllowed(405),
        /** The server is stopping or its inference loop is gone (503). */
        Unhealthy(503),
        /** A defect in bertj; the details are in the server's log, not the response (500). */
        Internal(500);

        private final int status;

        Type(int status) {
            this.status = status;
        }

        /** The HTTP status this type is answered with. */
        public int status() {
            return status;
        }

        /** The {@code error_type} string: TEI's names, with 413 reported as TEI does, as {@code Validation}. */
        public String wireName() {
            return this == TooLarge ? "Validation" : name();
        }
    }

    private final Type type;

    /** A refusal of {@code type} with a message for the client. */
    public ServeException(Type type, String message) {
        super(message, null, false, false); // no stack trace: this is an answer, not a defect
        this.type = type;
    }

    /** A refusal caused by {@code cause} (kept for the server's log only). */
    public ServeException(Type type, String message, Throwable cause) {
        super(message, cause, false, false);
        this.type = type;
    }

    /** The error type. */
    public Type type() {
        return type;
    }

    /** Shorthand for a {@link Type#Validation} error naming {@code field}. */
    static ServeException invalid(String field, String problem) {
        return new ServeException(Type.Validation, field + ": " + problem);
    }
}
