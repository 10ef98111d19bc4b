package org.jmamba;

/**
 * The recurrent state of a batch of sequences: per layer a conv window ({@code dInner x (dConv-1)})
 * and an SSM state ({@code dInner x dState}) for each sequence. Its size does not depend on how many
 * tokens have been consumed.
 *
 * <p>A state belongs to the model that created it and is used by one thread at a time; a model may
 * advance many states concurrently. Implementations that hold native memory free it in {@link #close()}.
 */
public interface MambaState extends AutoCloseable {

    /** Number of sequences in the batch. */
    int batch();

    /** Tokens consumed so far by sequence {@code row}. */
    long position(int row);

    /** Clears sequence {@code row} back to the empty-prompt state. */
    void reset(int row);

    /** An independent deep copy (e.g. to branch generation from a shared prompt). */
    MambaState copy();

    /** Bytes of memory this state occupies. */
    long sizeInBytes();

    @Override
    void close();
}
