package org.jmamba.cpu;

/** Token embedding: a row lookup into the [V, C] embedding matrix. */
public final class Embedding {
    private Embedding() {
    }

    /**
     * @param out    [BT, C] embedded rows
     * @param tokens [BT] token ids, already checked to lie in [0, V)
     * @param wte    [V, C] embedding matrix, row-major
     */
    public static void forward(float[] out, int[] tokens, float[] wte, int BT, int C) {
        for (int i = 0; i < BT; i++) {
            System.arraycopy(wte, tokens[i] * C, out, i * C, C);
        }
    }

    /**
     * Backward of {@link #forward}: scatter-add, {@code dWte[tokens[i]] += dOut[i]}. A token that
     * occurs several times collects the sum of its rows. Threads own disjoint column ranges and walk
     * the rows in order, so repeated tokens are summed in a fixed order without locks.
     *
     * @param dWte   [V, C] gradient of the embedding matrix (accumulated into)
     * @param dOut   [BT, C] ∂loss/∂out
     * @param tokens [BT] token ids in [0, V)
     */
    public static void backward(Parallel par, float[] dWte, float[] dOut, int[] tokens, int BT, int C) {
        par.parallelFor(C, BT, (c0, c1) -> {
            for (int i = 0; i < BT; i++) {
                int dst = tokens[i] * C;
                int src = i * C;
                for (int c = c0; c < c1; c++) {
                    dWte[dst + c] += dOut[src + c];
                }
            }
        });
    }
}
