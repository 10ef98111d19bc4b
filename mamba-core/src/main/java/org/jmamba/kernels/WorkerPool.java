package org.jmamba.kernels;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed team of threads for data-parallel loops with a hand-off of about a microsecond, and no
 * allocation per job.
 *
 * <p>Decoding one token runs about a hundred short parallel loops (each projection of each layer);
 * a general-purpose executor parks its threads between them and pays tens of microseconds to wake
 * them each time. Here the {@code threads - 1} workers spin briefly on a job counter after each job
 * ({@link #SPIN_NANOS}) and only then park, so back-to-back loops are handed over while the workers
 * are still awake; the calling thread always takes part as worker 0.
 *
 * <p>One job runs at a time. A call made while the team is busy — from inside a job (nesting) or
 * from a second application thread — runs on the calling thread alone, doing the workers' shares
 * one after the other: the work is split the same way whoever runs it, so results do not depend on
 * contention. Hence a job's shares must never wait for one another.
 */
public final class WorkerPool implements AutoCloseable {
    /** How long an idle worker spins (then yields the core between checks) before it parks. */
    static final long SPIN_NANOS = 200_000;
    /** An idle worker only spins this long before it starts yielding its core between checks. */
    static final long PURE_SPIN_NANOS = 20_000;
    /** Spins of a caller waiting for its workers before it starts yielding its core between checks. */
    static final int CALLER_SPINS = 1 << 10;

    /** A job run by every worker at once: worker {@code w} of {@code n} does its share. */
    @FunctionalInterface
    public interface Task {
        void run(int worker, int workers);
    }

    /** The body of a parallel loop over {@code [start, end)}. */
    @FunctionalInterface
    public interface Range {
        void run(int start, int end);
    }

    private final int threads;
    private final Worker[] workers;
    private final AtomicBoolean busy = new AtomicBoolean();
    private final AtomicInteger pending = new AtomicInteger();
    private final RangeTask rangeTask = new RangeTask();
    private volatile int generation;
    private volatile boolean closed;
    private Task task;            // published by the volatile write of generation
    private volatile Throwable failure;

    public WorkerPool(int threads, String name) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        this.threads = threads;
        this.workers = new Worker[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(this, i + 1, name + "-" + (i + 1));
            workers[i].start();
        }
    }

    public int threads() {
        return threads;
    }

    /** Runs {@code task} on every worker (the caller is worker 0) and returns when all are done. */
    public void run(Task task) {
        if (closed) {
            throw new IllegalStateException("worker pool is closed");
        }
        if (threads == 1 || isWorkerThread() || !busy.compareAndSet(false, true)) {
            for (int w = 0; w < threads; w++) {
                task.run(w, threads);
            }
            return;
        }
        runAcquired(task);
    }

    /** Runs a job on the team; the caller holds {@link #busy}, which this releases. */
    private void runAcquired(Task task) {
        try {
            this.task = task;
            failure = null;
            pending.set(workers.length);
            generation = generation + 1; // publishes task
            for (Worker w : workers) {
                if (w.parked) {
                    LockSupport.unpark(w);
                }
            }
            Throwable own = null;
            try {
                task.run(0, threads);
            } catch (Throwable t) {
                own = t;
            }
            int spins = 0;
            while (pending.get() != 0) {
                if (++spins < CALLER_SPINS) {
                    Thread.onSpinWait();
                } else {
                    // Still not done: on a busy machine the worker may be waiting for a core,
                    // perhaps this one; let it have it rather than spin a whole time slice.
                    Thread.yield();
                }
            }
            Throwable f = own != null ? own : failure;
            if (f instanceof RuntimeException e) {
                throw e;
            } else if (f instanceof Error e) {
                throw e;
            } else if (f != null) {
                throw new IllegalStateException(f);
            }
        } finally {
            this.task = null;
            rangeTask.set(null, 0, 0); // drop the caller's loop body before another thread may take the pool
            busy.set(false);
        }
    }

    /**
     * Splits {@code [0, n)} into {@code min(parts, threads)} contiguous ranges, one per worker, and
     * runs {@code body} on them.
     */
    public void parallelFor(int n, int parts, Range body) {
        if (n <= 0) {
            return;
        }
        if (closed) {
            throw new IllegalStateException("worker pool is closed");
        }
        int p = Math.min(Math.min(parts, threads), n);
        if (p <= 1 || isWorkerThread() || !busy.compareAndSet(false, true)) {
            for (int i = 0; i < p; i++) { // the same split, run here in turn
                body.run(RangeTask.start(n, p, i), RangeTask.start(n, p, i + 1));
            }
            return;
        }
        // Only the thread holding the pool touches the shared RangeTask.
        rangeTask.set(body, n, p);
        runAcquired(rangeTask);
    }

    private boolean isWorkerThread() {
        return Thread.currentThread() instanceof Worker w && w.pool == this;
    }

    @Override
    public void close() {
        closed = true;
        for (Worker w : workers) {
            LockSupport.unpark(w);
        }
    }

    /** parallelFor's job, reused: worker w of the first {@code parts} takes the w-th slice. */
    private static final class RangeTask implements Task {
        private Range body;
        private int n;
        private int parts;

        void set(Range body, int n, int parts) {
            this.body = body;
            this.n = n;
            this.parts = parts;
        }

        @Override
        public void run(int worker, int workers) {
            if (worker < parts) {
                body.run(start(n, parts, worker), start(n, parts, worker + 1));
            }
        }

        static int start(int n, int parts, int i) {
            return (int) ((long) n * i / parts);
        }
    }

    private static final class Worker extends Thread {
        final WorkerPool pool;
        final int index;
        volatile boolean parked;

        Worker(WorkerPool pool, int index, String name) {
            super(name);
            this.pool = pool;
            this.index = index;
            setDaemon(true);
        }

        @Override
        public void run() {
            // Jobs are counted from 0, the value before the first job: reading pool.generation
            // here instead could skip a job published before this thread got to run.
            int seen = 0;
            while (true) {
                int g = awaitJob(seen);
                if (g == seen) {
                    return; // closed
                }
                seen = g;
                runJob();
            }
        }

        /*
         * Waiting and working are separate methods on purpose: the JIT compiles a hot loop together
         * with what it calls, and the spin loop becomes hot long before the kernels do. Kept apart,
         * the wait compiles to a small loop and the job's kernels compile on their own, with the
         * whole inlining budget the SIMD code needs.
         */

        /** Spins, then parks, until a job after {@code seen} is published; returns its number. */
        private int awaitJob(int seen) {
            long idleSince = System.nanoTime();
            while (!pool.closed) {
                int g = pool.generation;
                if (g != seen) {
                    return g;
                }
                long idle = System.nanoTime() - idleSince;
                if (idle < PURE_SPIN_NANOS) {
                    Thread.onSpinWait();
                } else if (idle < SPIN_NANOS) {
                    Thread.yield(); // on a busy machine, the thread with the next job may need this core
                } else {
                    parked = true;
                    if (pool.generation == seen && !pool.closed) {
                        LockSupport.park(this);
                    }
                    parked = false;
                    idleSince = System.nanoTime();
                }
            }
            return seen;
        }

        private void runJob() {
            try {
                pool.task.run(index, pool.threads);
            } catch (Throwable t) {
                pool.failure = t;
            } finally {
                pool.pending.decrementAndGet();
            }
        }
    }
}
