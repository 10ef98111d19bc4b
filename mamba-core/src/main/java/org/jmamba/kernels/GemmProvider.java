package org.jmamba.kernels;

/**
 * Another engine for the large matrix products of prefill and training, which the model's linear
 * layers hand a product to when {@link #accepts} says so (the pure-Java {@link Kernels} do the rest).
 * The one implementation is {@code org.jmamba.nd4j.Nd4jGemm} (ND4J's BLAS, an optional dependency);
 * the model names only this interface, so it never needs ND4J.
 *
 * <p>Each method computes the whole {@code [M, N]} output of the operation of the same name in
 * {@link ScalarKernels} (same layout conventions, same meaning of {@code accumulate} and bias), to
 * the same accuracy (float32 sums, relative error of order 1e-6). Implementations are thread-safe
 * and choose their own threads: the caller does not split the work.
 */
public interface GemmProvider {

    /** Whether to take a product of this size ({@code M·N} outputs, sums of {@code K} terms). */
    boolean accepts(int M, int N, int K);

    /** {@code C[m,n] = (accumulate ? C[m,n] : 0) + Σ_k A[m,k]·B[n,k] + bias[n]}: {@link ScalarKernels#gemmNT}. */
    void gemmNT(float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                float[] c, int cOff, int ldc, float[] bias, boolean accumulate, int M, int N, int K);

    /** {@code C[m,n] (+)= Σ_k A[m,k]·B[k,n]}: {@link ScalarKernels#gemmNN}. */
    void gemmNN(float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                float[] c, int cOff, int ldc, boolean accumulate, int M, int N, int K);

    /** {@code C[m,n] (+)= Σ_k A[k,m]·B[k,n]}: {@link ScalarKernels#gemmTN}. */
    void gemmTN(float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                float[] c, int cOff, int ldc, boolean accumulate, int M, int N, int K);
}
