package org.jmamba.generate;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * Generated tokens as a lazy {@link Iterator}: the model runs only when the consumer asks for the
 * next token. {@link #close()} stops generation and frees the state; it is safe to call at any
 * time, and the results then end with {@link FinishReason#CANCELLED}. Not thread-safe.
 */
public final class TokenStream implements Iterator<GeneratedToken>, AutoCloseable {
    private final GenerationSession session;
    private final ArrayDeque<GeneratedToken> ready = new ArrayDeque<>();
    private boolean closed;

    TokenStream(GenerationSession session) {
        this.session = session;
    }

    @Override
    public boolean hasNext() {
        while (ready.isEmpty() && !closed && session.isActive()) {
            session.advance(t -> {
                ready.add(t);
                return true;
            });
        }
        return !ready.isEmpty();
    }

    @Override
    public GeneratedToken next() {
        if (!hasNext()) {
            throw new NoSuchElementException("generation has ended");
        }
        return ready.poll();
    }

    /** This iterator as a sequential {@link Stream}; closing the stream closes this. */
    public Stream<GeneratedToken> stream() {
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(this, Spliterator.ORDERED | Spliterator.NONNULL),
                false).onClose(this::close);
    }

    /** Results per prompt: final once the iterator is exhausted or closed, partial before. */
    public List<GenerationResult> results() {
        return session.results();
    }

    /** The result of a single-prompt stream. */
    public GenerationResult result() {
        return session.results().get(0);
    }

    /** Stops generating (sequences still running end as cancelled) and frees the state. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            session.close();
            ready.clear();
        }
    }
}
