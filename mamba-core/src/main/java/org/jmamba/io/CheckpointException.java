package org.jmamba.io;

import java.nio.file.Path;

/**
 * A checkpoint, config or tensor file could not be read or written: it is malformed, hostile,
 * inconsistent with the model config, or an I/O error occurred. The message always names the file
 * and, where one is involved, the tensor or field.
 *
 * <p>Unchecked so that loading code reads top to bottom; every public method of {@code org.jmamba.io}
 * that touches a file reports its failures with this one type (I/O errors are wrapped as the cause).
 */
public final class CheckpointException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;

    public CheckpointException(Path file, String message) {
        this(file, message, null);
    }

    public CheckpointException(Path file, String message, Throwable cause) {
        super(file + ": " + message, cause);
        this.file = file;
    }

    /** A problem with one named tensor of {@code file}. */
    public static CheckpointException tensor(Path file, String tensor, String message) {
        return new CheckpointException(file, "tensor '" + tensor + "': " + message);
    }

    /** A problem with one named tensor of {@code file}, with a cause. */
    public static CheckpointException tensor(Path file, String tensor, String message, Throwable cause) {
        return new CheckpointException(file, "tensor '" + tensor + "': " + message, cause);
    }

    /** The file the problem is in. */
    public Path file() {
        return file;
    }
}
