package org.jmamba.io;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Makes the tensors or matrices of one load on a few threads of its own, while the loading thread
 * goes on through the checkpoint ({@link Checkpoints#visitEach}). Each item is made whole by one
 * thread (read, converted or copied, in the same operations as on one thread), so the result is the
 * same bits whatever the count.
 *
 * <p>Why threads: making a large tensor is mostly first touches of new memory and, for bf16 and
 * int8, rounding or quantising, and both go about twice as fast on two cores (on the 2-core build
 * machine, allocating 54 in_proj-sized segments took 0.58–0.80 s on two threads against
 * 1.18–1.32 s on one: docs/benchmarks.md, "Loading and memory"). A task reads its tensor only when
 * it runs. With a heap budget ({@link #ParallelLoads(int, long)}), tasks that hold a temporary on
 * the heap (an fp32 tensor being rounded or quantised) run together only while their temporaries
 * fit in it; a budget of the largest single temporary keeps the load within the heap a load on one
 * thread needs.
 *
 * <p>{@link #finish} hands each item to its sink on the calling thread, in the order they were
 * submitted, or throws the failure of the first item in that order that failed: the same error as
 * a load on one thread would report ({@link #visit} keeps that true when the walk through the
 * checkpoint fails too). After a failure the items not yet started are cancelled; {@link #close}
 * waits for the ones running (never interrupting them: an interrupted {@code FileChannel} read
 * closes its channel), so that the caller may free the memory they write into as soon as it
 * returns.
 *
 * <p>One loading thread drives an instance ({@link #submit}, {@link #visit}, {@link #finish},
 * {@link #close}); it is not for sharing between callers.
 *
 * @param <T> what one task makes
 */
public final class ParallelLoads<T> implements AutoCloseable {
    /** Null when one thread: each item is then made at once, on the calling thread. */
    private final ExecutorService pool;
    private final List<Future<T>> made = new ArrayList<>();
    private final List<Consumer<T>> sinks = new ArrayList<>();
    /**
     * Heap temporaries in KiB that running tasks may hold at once; null: no budget. Fair, so that a
     * large request is not passed over forever by small ones.
     */
    private final Semaphore heapKiB;
    private final int heapKiBTotal;

    /** Makes items on {@code threads} threads (1: on the calling thread, as submitted), with no heap budget. */
    public ParallelLoads(int threads) {
        this(threads, 0);
    }

    /**
     * Makes items on {@code threads} threads; tasks submitted with a heap size ({@link #submit(Supplier,
     * long, Consumer)}) run together only while those sizes add up to at most {@code heapBudget}
     * bytes (a larger one runs alone). {@code heapBudget} 0: no budget.
     */
    public ParallelLoads(int threads, long heapBudget) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        if (heapBudget < 0) {
            throw new IllegalArgumentException("heapBudget must be at least 0, got " + heapBudget);
        }
        heapKiBTotal = heapBudget == 0 ? 0 : (int) Math.min(Integer.MAX_VALUE, (heapBudget + 1023) / 1024);
        heapKiB = heapBudget == 0 ? null : new Semaphore(heapKiBTotal, true);
        if (threads == 1) {
            pool = null;
        } else {
            AtomicInteger n = new AtomicInteger();
            pool = Executors.newFixedThreadPool(threads, r -> {
                Thread t = new Thread(r, "jmamba-load-" + n.incrementAndGet());
                t.setDaemon(true); // a load abandoned by an Error never keeps the JVM alive
                return t;
            });
        }
    }

    /** Makes one item (now, or on a thread of the load) and later hands it to {@code sink}. */
    public void submit(Supplier<T> maker, Consumer<T> sink) {
        submit(maker, 0, sink);
    }

    /**
     * {@link #submit(Supplier, Consumer)} for a task that holds about {@code heapBytes} of temporaries
     * on the heap while it runs: it waits, on its thread, until they fit in the budget.
     */
    public void submit(Supplier<T> maker, long heapBytes, Consumer<T> sink) {
        if (heapBytes < 0) {
            throw new IllegalArgumentException("heapBytes must be at least 0, got " + heapBytes);
        }
        if (pool == null) {
            sink.accept(maker.get()); // one thread: exactly the sequential load
            return;
        }
        int kib = heapKiB == null ? 0 : (int) Math.min(heapKiBTotal, (heapBytes + 1023) / 1024);
        made.add(pool.submit(() -> {
            if (kib == 0) {
                return maker.get();
            }
            heapKiB.acquireUninterruptibly(kib);
            try {
                return maker.get();
            } finally {
                heapKiB.release(kib);
            }
        }));
        sinks.add(sink);
    }

    /**
     * Runs {@code visit} (the walk through the checkpoint that submits the items), then
     * {@link #finish}. If the walk itself fails (a small tensor it reads), an item submitted before
     * that point which failed too is reported instead, as a load on one thread would have met it first.
     */
    public void visit(Runnable visit) {
        try {
            visit.run();
        } catch (RuntimeException | Error e) {
            try {
                finish(); // everything submitted lies before the walk's failure in the checkpoint
            } catch (RuntimeException | Error earlier) {
                earlier.addSuppressed(e);
                throw earlier;
            }
            throw e;
        }
        finish();
    }

    /**
     * Waits for every item and hands each to its sink, in submission order; throws the first
     * failure in that order (as it was thrown: a {@link CheckpointException} stays one).
     */
    public void finish() {
        RuntimeException failure = null;
        Error error = null;
        for (int i = 0; i < made.size(); i++) {
            try {
                T m = getUninterruptibly(made.get(i));
                if (failure == null && error == null) {
                    sinks.get(i).accept(m);
                }
            } catch (CancellationException e) {
                // cancelled after an earlier failure: that one is reported
            } catch (ExecutionException e) {
                if (failure == null && error == null) {
                    Throwable cause = e.getCause();
                    if (cause instanceof Error err) {
                        error = err;
                    } else if (cause instanceof RuntimeException re) {
                        failure = re;
                    } else {
                        failure = new IllegalStateException("loading failed: " + cause, cause);
                    }
                    cancelFrom(i + 1);
                }
            }
        }
        if (error != null) {
            throw error;
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** Cancels what has not started; waits for what is running; stops the threads. */
    @Override
    public void close() {
        if (pool == null) {
            return;
        }
        cancelFrom(0);
        pool.shutdown();
        boolean interrupted = false;
        while (true) {
            try {
                if (pool.awaitTermination(1, TimeUnit.MINUTES)) {
                    break;
                }
            } catch (InterruptedException e) {
                interrupted = true; // the memory the running tasks write into must outlive them
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private void cancelFrom(int first) {
        for (int j = first; j < made.size(); j++) {
            made.get(j).cancel(false);
        }
    }

    private static <T> T getUninterruptibly(Future<T> f) throws ExecutionException {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return f.get();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
