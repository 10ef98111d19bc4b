package org.jmamba.io;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Where a tensor's bytes lie in a file, as its source stores them (little-endian, in the tensor's
 * dtype, no header or padding inside): {@code length} bytes from byte {@code offset} of {@code file}.
 * What a loader needs to map a tensor instead of reading it ({@link TensorSource#fileRegion}).
 *
 * @param file   the file (a shard for sharded checkpoints)
 * @param offset the absolute position of the tensor's first byte in the file
 * @param length the tensor's byte length ({@link TensorInfo#byteLength()})
 */
public record FileRegion(Path file, long offset, long length) {
    public FileRegion {
        Objects.requireNonNull(file, "file");
        if (offset < 0 || length < 0) {
            throw new IllegalArgumentException("bad file region: " + length + " bytes at " + offset);
        }
    }

    /** The first byte after the region. */
    public long end() {
        return offset + length;
    }
}
