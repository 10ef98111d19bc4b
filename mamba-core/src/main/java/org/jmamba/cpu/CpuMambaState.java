package org.jmamba.cpu;

import java.util.Arrays;
import org.jmamba.MambaConfig;
import org.jmamba.MambaState;

/**
 * Recurrent state of the CPU model for a batch of sequences: per layer the conv window
 * [B, K-1, D] (the last K-1 conv <em>inputs</em>, token-major) and the SSM state [B, D, N].
 * Not thread-safe: one thread uses it at a time.
 */
public final class CpuMambaState implements MambaState {
    final CpuMamba owner;
    final MambaConfig config;
    final int batch;
    final float[][] conv; // [layer][B * (K-1) * D]
    final float[][] ssm;  // [layer][B * D * N]
    final long[] positions;
    /** The allocation-free decoder's scratch for this state; made on first step (not copied). */
    Decoder decoder;
    private boolean closed;

    CpuMambaState(CpuMamba owner, MambaConfig c, int batch) {
        long convSize = (long) batch * (c.dConv() - 1) * c.dInner();
        long ssmSize = (long) batch * c.dInner() * c.dState();
        if (ssmSize > Integer.MAX_VALUE - 8 || convSize > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("batch " + batch + " is too large for one state");
        }
        this.owner = owner;
        this.config = c;
        this.batch = batch;
        this.conv = new float[c.nLayer()][(int) convSize];
        this.ssm = new float[c.nLayer()][(int) ssmSize];
        this.positions = new long[batch];
    }

    private CpuMambaState(CpuMambaState o) {
        this.owner = o.owner;
        this.config = o.config;
        this.batch = o.batch;
        this.conv = new float[o.conv.length][];
        this.ssm = new float[o.ssm.length][];
        for (int l = 0; l < conv.length; l++) {
            conv[l] = o.conv[l].clone();
            ssm[l] = o.ssm[l].clone();
        }
        this.positions = o.positions.clone();
    }

    @Override
    public int batch() {
        return batch;
    }

    @Override
    public long position(int row) {
        checkOpen();
        return positions[checkRow(row)];
    }

    @Override
    public void reset(int row) {
        checkOpen();
        checkRow(row);
        int convRow = (config.dConv() - 1) * config.dInner();
        int ssmRow = config.dInner() * config.dState();
        for (int l = 0; l < conv.length; l++) {
            Arrays.fill(conv[l], row * convRow, (row + 1) * convRow, 0f);
            Arrays.fill(ssm[l], row * ssmRow, (row + 1) * ssmRow, 0f);
        }
        positions[row] = 0;
    }

    @Override
    public CpuMambaState copy() {
        checkOpen();
        return new CpuMambaState(this);
    }

    @Override
    public long sizeInBytes() {
        long n = 0;
        for (int l = 0; l < conv.length; l++) {
            n += 4L * conv[l].length + 4L * ssm[l].length;
        }
        return n + 8L * positions.length;
    }

    @Override
    public void close() {
        closed = true;
    }

    boolean isClosed() {
        return closed;
    }

    void checkOpen() {
        if (closed) {
            throw new IllegalStateException("state is closed");
        }
    }

    private int checkRow(int row) {
        if (row < 0 || row >= batch) {
            throw new IndexOutOfBoundsException("row " + row + " outside batch of " + batch);
        }
        return row;
    }
}
