package org.jmamba.tokenizer;

import java.util.Arrays;

/** A growable int array: token ids are collected here without boxing. */
final class IntList {
    private int[] data;
    private int size;

    IntList(int capacity) {
        data = new int[Math.max(capacity, 8)];
    }

    void add(int v) {
        if (size == data.length) {
            data = Arrays.copyOf(data, Math.max(8, data.length + (data.length >> 1)));
        }
        data[size++] = v;
    }

    void addAll(int[] values) {
        if (size + values.length > data.length) {
            data = Arrays.copyOf(data, Math.max(size + values.length, data.length + (data.length >> 1)));
        }
        System.arraycopy(values, 0, data, size, values.length);
        size += values.length;
    }

    int size() {
        return size;
    }

    /** A copy of the elements from {@code from} on. */
    int[] copyFrom(int from) {
        return Arrays.copyOfRange(data, from, size);
    }

    int[] toArray() {
        return Arrays.copyOf(data, size);
    }
}
