package org.jmamba.generate;

/**
 * Lets another thread stop a running generation. The generator checks it before every model call,
 * so generation stops within one decoding step (or one prefill chunk).
 */
public final class CancellationToken {
    private volatile boolean cancelled;

    public void cancel() {
        cancelled = true;
    }

    public boolean isCancelled() {
        return cancelled;
    }
}
