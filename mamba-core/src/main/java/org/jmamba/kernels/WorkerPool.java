package org.jmamba.kernels;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed team of threads for data-parallel loops, with a hand-off of about a microsecond and no
 * allocation per job.
 *
 * <p>Decoding one token runs about a hundred short parallel loops (each projection of each layer);
 * a general-purpose executor parks its threads between them and pays tens of microseconds to wake
 * them each time. Here the {@code threads - 1} workers spin briefly after each job, then yield
 * their core between checks, and only then park ({@link #SPIN_NANOS}), so back-to-back jobs are
 * handed over while the workers are awake. The calling thread always takes part.
 *
 * <p>A job is cut into more chunks than there are threads, and every thread, the caller included,
 * claims the next unclaimed chunk until none is left; chunk 0 is always the caller's (worker 0).
 * On a busy machine, where the operating system may take a core from one of the team for a whole
 * time slice, the others then take over that thread's chunks instead of waiting for it.
 *
 * <p>One job runs at a time. A call made while the team is busy — from inside a job (nesting) or
 * from a second application thread — runs every chunk on the calling thread, one after the other:
 * the work is cut the same way whoever runs it. Chunks must never wait for one another.
 */
public final class WorkerPool implements AutoCloseable {
    /** How long an idle worker keeps checking for the next job (spinning, then yielding) before it parks. */
    static final long SPIN_NANOS = 200_000;
    /** An idle worker only spins this long before it starts yielding its core between checks. */
    static final long PURE_SPIN_NANOS = 20_000;
    /** Spins of a caller waiting for the last chunks before it starts yielding its core between checks. */
    static final int CALLER_SPINS = 1 << 10;
    /** Chunks per thread of a {@link #parallelFor}. */
    public static final int CHUNKS_PER_THREAD = 4;
    /**
     * The largest team. Far above any core count this library runs well on (each worker spins
     * between jobs, so a team larger than the machine only slows it down), and low enough that a
     * mistyped count fails at once instead of starting threads until the system refuses.
     */
    public static final int MAX_THREADS = 1024;

    /**
     * Chunk {@code chunk} of {@code chunks} of a job, run by thread number {@code worker} of the
     * team; chunk 0 always by worker 0, the thread that called {@link #run}.
     */
    @FunctionalInterface
    public interface Task {
        void run(int worker, int chunk, int chunks);
    }

    /** The body of a parallel loop over {@code [start, end)}. */
    @FunctionalInterface
    public interface Range {
        void run(int start, int end);
    }

    private final int threads;
    private final Worker[] workers;
    private final AtomicBoolean busy = new AtomicBoolean();
    /** The job's generation (high 32 bits) and its next unclaimed chunk (low 32 bits). */
    private final AtomicLong ticket = new AtomicLong();
    private final AtomicInteger done = new AtomicInteger();
    private final RangeTask rangeTask = new RangeTask();
    private volatile int generation;
    private volatile boolean closed;
    // Published by the volatile write of generation:
    private Task task;
    private int chunks;
    private volatile Throwable failure;

    /**
     * Starts {@code threads - 1} workers named {@code name-1}, {@code name-2}, …; the caller of each
     * job is the team's other thread.
     *
     * @throws IllegalArgumentException if {@code threads} is not from 1 to {@link #MAX_THREADS}
     */
    public WorkerPool(int threads, String name) {
        checkThreads(threads);
        this.threads = threads;
        this.workers = new Worker[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            try {
                Worker w = new Worker(this, i + 1, name + "-" + (i + 1));
                w.start();
                workers[i] = w;
            } catch (Throwable e) { // e.g. the system refused another thread: stop the ones started
                closed = true;
                for (int j = 0; j < i; j++) {
                    LockSupport.unpark(workers[j]);
                }
                throw e;
            }
        }
    }

    /**
     * Throws unless {@code threads} is a team size this pool accepts: 1 to {@link #MAX_THREADS}.
     *
     * @throws IllegalArgumentException naming the count
     */
    public static void checkThreads(int threads) {
        if (threads < 1 || threads > MAX_THREADS) {
            throw new IllegalArgumentException("threads must be from 1 to " + MAX_THREADS + " (this machine has "
                    + Runtime.getRuntime().availableProcessors() + " processors), got " + threads);
        }
    }

    public int threads() {
        return threads;
    }

    /** Runs chunks {@code 0 .. chunks-1} of {@code task} on the team and returns when all are done. */
    public void run(Task task, int chunks) {
        if (closed) {
            throw new IllegalStateException("worker pool is closed");
        }
        if (chunks <= 0) {
            return;
        }
        if (threads == 1 || chunks == 1 || isWorkerThread() || !busy.compareAndSet(false, true)) {
            for (int c = 0; c < chunks; c++) {
                task.run(0, c, chunks);
            }
            return;
        }
        runAcquired(task, chunks);
    }

    /** Runs a job on the team; the caller holds {@link #busy}, which this releases. */
    private void runAcquired(Task task, int chunks) {
        try {
            int g = generation + 1;
            // The new ticket first: from here on a late thread of an earlier job claims nothing,
            // whatever task and chunk count it then reads. Chunk 0 is claimed here, for the
            // caller: a job's first chunk is always the calling thread's, so a task can size it
            // for that thread (the decoder balances its chunks by each thread's measured speed).
            ticket.set(((long) g << 32) | 1);
            this.task = task;
            this.chunks = chunks;
            failure = null;
            done.set(0);
            generation = g; // publishes the job
            for (Worker w : workers) {
                if (w.parked) {
                    LockSupport.unpark(w);
                }
            }
            runChunk(task, 0, 0, chunks);
            work(0, g);
            int spins = 0;
            while (done.get() != chunks) {
                if (++spins < CALLER_SPINS) {
                    Thread.onSpinWait();
                } else {
                    // A chunk is still running on a thread that may be waiting for a core,
                    // perhaps this one: let it have it rather than spin a whole time slice.
                    Thread.yield();
                }
            }
            Throwable f = failure;
            if (f instanceof RuntimeException e) {
                throw e;
            } else if (f instanceof Error e) {
                throw e;
            } else if (f != null) {
                throw new IllegalStateException(f);
            }
        } finally {
            this.task = null;
            rangeTask.set(null, 0); // drop the caller's loop body before another thread may take the pool
            busy.set(false);
        }
    }

    /** Claims and runs chunks of job {@code g} until none is left. */
    private void work(int worker, int g) {
        Task t = task;
        int n = chunks;
        while (true) {
            int c = claim(g, n);
            if (c < 0) {
                return;
            }
            runChunk(t, worker, c, n);
        }
    }

    /** Runs chunk {@code c} of {@code n}, records a failure, and counts the chunk as done. */
    private void runChunk(Task t, int worker, int c, int n) {
        try {
            t.run(worker, c, n);
        } catch (Throwable e) {
            failure = e;
        } finally {
            done.incrementAndGet();
        }
    }

    /** The next chunk of job {@code g}, or -1 when none is left (or the job is another one). */
    private int claim(int g, int n) {
        while (true) {
            long v = ticket.get();
            if ((int) (v >>> 32) != g) {
                return -1;
            }
            int c = (int) v;
            if (c >= n) {
                return -1;
            }
            if (ticket.compareAndSet(v, v + 1)) {
                return c;
            }
        }
    }

    /**
     * Runs {@code body} over {@code [0, n)} cut into {@code min(n, parts · CHUNKS_PER_THREAD)}
     * contiguous ranges (one range, on the calling thread, when {@code parts} is 1).
     */
    public void parallelFor(int n, int parts, Range body) {
        if (n <= 0) {
            return;
        }
        if (closed) {
            throw new IllegalStateException("worker pool is closed");
        }
        int p = Math.min(Math.min(parts, threads), n);
        int chunks = p <= 1 ? 1 : Math.min(n, p * CHUNKS_PER_THREAD);
        if (chunks <= 1 || isWorkerThread() || !busy.compareAndSet(false, true)) {
            for (int i = 0; i < chunks; i++) { // the same cut, run here in turn
                body.run(RangeTask.start(n, chunks, i), RangeTask.start(n, chunks, i + 1));
            }
            return;
        }
        // Only the thread holding the pool touches the shared RangeTask.
        rangeTask.set(body, n);
        runAcquired(rangeTask, chunks);
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

    /** parallelFor's job, reused: chunk c of the range. */
    private static final class RangeTask implements Task {
        private Range body;
        private int n;

        void set(Range body, int n) {
            this.body = body;
            this.n = n;
        }

        @Override
        public void run(int worker, int chunk, int chunks) {
            body.run(start(n, chunks, chunk), start(n, chunks, chunk + 1));
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
                pool.work(index, g);
            }
        }

        /*
         * Waiting and working are separate methods on purpose: the JIT compiles a hot loop together
         * with what it calls, and the spin loop becomes hot long before the kernels do. Kept apart,
         * the wait compiles to a small loop and the job's kernels compile on their own, with the
         * whole inlining budget the SIMD code needs.
         */

        /** Spins, yields, then parks, until a job after {@code seen} is published; returns its number. */
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
    }
}
