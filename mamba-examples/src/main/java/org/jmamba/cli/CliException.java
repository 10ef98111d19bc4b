package org.jmamba.cli;

/**
 * A user error (bad file, bad argument value, missing tokenizer...): reported as one line on stderr
 * with a non-zero exit code, without a stack trace unless {@code --verbose} is given.
 */
public final class CliException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CliException(String message) {
        super(message);
    }

    public CliException(String message, Throwable cause) {
        super(message, cause);
    }
}
