package org.jmamba.tokenizer;

/**
 * The merge table of a BPE model and the merging of one word.
 *
 * <p>A merge {@code (left, right) -> merged} has a rank (its position in the file); lower ranks
 * were learnt first and are applied first. The table is an open-addressing hash map from the pair
 * of ids, packed into a long, to (rank, merged id).
 *
 * <p>Merging a word follows Hugging Face's algorithm: a min-heap of candidate merges ordered by
 * (rank, position), symbols in a doubly linked list; pop the best candidate, skip it if it went
 * stale (a neighbour was merged away meanwhile), else merge and push the two new candidate pairs
 * it creates. Each merge removes a symbol, so a word of n bytes costs O(n log n) whatever its
 * content; a word of a million identical bytes is no worse than any other.
 */
final class BpeMerges {
    private final long[] keys;   // (left << 32 | right), EMPTY where free
    private final int[] ranks;
    private final int[] merged;
    private final int mask;
    private final int shift;     // Fibonacci hashing: the top log2(capacity) bits of key * phi
    private final int size;

    private static final long EMPTY = -1L;

    /**
     * @param lefts, rights, results the merges in rank order; a pair listed twice keeps its last
     *                               rank, as in Hugging Face tokenizers.
     */
    BpeMerges(int[] lefts, int[] rights, int[] results) {
        int n = lefts.length;
        int capacity = Integer.highestOneBit(Math.max(4, n * 2 - 1)) << 1;
        keys = new long[capacity];
        java.util.Arrays.fill(keys, EMPTY);
        ranks = new int[capacity];
        merged = new int[capacity];
        mask = capacity - 1;
        shift = 64 - Integer.numberOfTrailingZeros(capacity);
        int count = 0;
        for (int rank = 0; rank < n; rank++) {
            long key = pack(lefts[rank], rights[rank]);
            int slot = slotOf(key);
            if (keys[slot] == EMPTY) {
                keys[slot] = key;
                count++;
            }
            ranks[slot] = rank;
            merged[slot] = results[rank];
        }
        size = count;
    }

    int size() {
        return size;
    }

    private static long pack(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    private int slotOf(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        int slot = (int) (h >>> shift);
        while (keys[slot] != EMPTY && keys[slot] != key) {
            slot = (slot + 1) & mask;
        }
        return slot;
    }

    /** Slot of the merge of {@code (left, right)}, or -1 if there is none. */
    int find(int left, int right) {
        int slot = slotOf(pack(left, right));
        return keys[slot] == EMPTY ? -1 : slot;
    }

    int rankAt(int slot) {
        return ranks[slot];
    }

    int mergedAt(int slot) {
        return merged[slot];
    }

    /** Scratch space for merging words; one per encode call, reused across its words. */
    static final class Word {
        int[] sym = new int[64];   // token id of each symbol; -1 once merged into its left neighbour
        int[] prev = new int[64];
        int[] next = new int[64];  // -1 at the end
        long[] heap = new long[64];
        int length;
        int heapSize;

        /** Starts a word of {@code n} symbols; fill {@code sym[0..n)} afterwards. */
        void reset(int n) {
            if (sym.length < n) {
                int cap = Math.max(n, sym.length * 2);
                sym = new int[cap];
                prev = new int[cap];
                next = new int[cap];
            }
            length = n;
            heapSize = 0;
        }

        /** Applies all merges and appends the resulting ids to {@code out}. */
        void mergeInto(BpeMerges merges, IntList out) {
            int n = length;
            for (int i = 0; i < n; i++) {
                prev[i] = i - 1;
                next[i] = i + 1 < n ? i + 1 : -1;
            }
            for (int i = 0; i + 1 < n; i++) {
                pushPair(merges, i, i + 1);
            }
            while (heapSize > 0) {
                long top = pop();
                int pos = (int) top;
                int rank = (int) (top >>> 32);
                int right = next[pos];
                if (sym[pos] < 0 || right < 0) {
                    continue; // merged away, or now the last symbol
                }
                int slot = merges.find(sym[pos], sym[right]);
                if (slot < 0 || merges.rankAt(slot) != rank) {
                    continue; // stale: the pair at pos is no longer the one this entry was for
                }
                sym[pos] = merges.mergedAt(slot);
                sym[right] = -1;
                int after = next[right];
                next[pos] = after;
                if (after >= 0) {
                    prev[after] = pos;
                    pushPair(merges, pos, after);
                }
                if (prev[pos] >= 0) {
                    pushPair(merges, prev[pos], pos);
                }
            }
            for (int i = n > 0 ? 0 : -1; i >= 0; i = next[i]) {
                out.add(sym[i]);
            }
        }

        private void pushPair(BpeMerges merges, int left, int right) {
            int slot = merges.find(sym[left], sym[right]);
            if (slot >= 0) {
                push(((long) merges.rankAt(slot) << 32) | left);
            }
        }

        // A binary min-heap of (rank << 32 | position): lowest rank first, leftmost among equals.
        private void push(long v) {
            if (heapSize == heap.length) {
                heap = java.util.Arrays.copyOf(heap, heap.length * 2);
            }
            int i = heapSize++;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (heap[parent] <= v) {
                    break;
                }
                heap[i] = heap[parent];
                i = parent;
            }
            heap[i] = v;
        }

        private long pop() {
            long top = heap[0];
            long last = heap[--heapSize];
            int i = 0;
            int half = heapSize >>> 1;
            while (i < half) {
                int child = 2 * i + 1;
                if (child + 1 < heapSize && heap[child + 1] < heap[child]) {
                    child++;
                }
                if (last <= heap[child]) {
                    break;
                }
                heap[i] = heap[child];
                i = child;
            }
            heap[i] = last;
            return top;
        }
    }
}
