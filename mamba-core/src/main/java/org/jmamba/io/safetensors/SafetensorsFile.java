package org.jmamba.io.safetensors;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jmamba.io.CheckpointException;
import org.jmamba.io.FileRegion;
import org.jmamba.io.TensorInfo;
import org.jmamba.io.TensorSource;

/**
 * A safetensors file opened for reading. The header is read and fully validated on
 * {@link #open}; the data section is memory-mapped (in chunks of at most 1 GiB, so files beyond
 * the 2 GiB limit of one mapping work) and tensors are decoded from the mapping on demand, never
 * read into the heap as raw bytes.
 *
 * <p>Thread-safe for reads. {@link #close} drops the mappings; the JVM unmaps them when they are
 * collected.
 */
public final class SafetensorsFile implements TensorSource {
    /** Size of one mapped chunk of the data section. */
    static final long CHUNK = 1L << 30;

    private final Path path;
    private final SafetensorsHeader header;
    private final List<String> names;
    private final long dataStart;
    private final long dataLength;
    private final long chunkSize;
    private volatile MappedByteBuffer[] chunks;

    private SafetensorsFile(Path path, SafetensorsHeader header, long dataStart, long dataLength, long chunkSize,
                            MappedByteBuffer[] chunks) {
        this.path = path;
        this.header = header;
        this.names = List.copyOf(header.entries().keySet());
        this.dataStart = dataStart;
        this.dataLength = dataLength;
        this.chunkSize = chunkSize;
        this.chunks = chunks;
    }

    /** Opens and validates {@code file}; throws {@link CheckpointException} naming the problem. */
    public static SafetensorsFile open(Path file) {
        return open(file, CHUNK);
    }

    /** {@link #open(Path)} with a chosen mapping chunk size (tests use tiny ones to cross boundaries). */
    static SafetensorsFile open(Path file, long chunkSize) {
        if (chunkSize <= 0 || chunkSize > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("chunk size " + chunkSize);
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                SafetensorsHeader.checkHeaderLength(file, 0, size); // throws with the right message
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0, file);
            int headerLength = SafetensorsHeader.checkHeaderLength(file, lenBuf.getLong(0), size);
            ByteBuffer json = ByteBuffer.allocate(headerLength);
            readFully(ch, json, 8, file);
            long dataStart = 8L + headerLength;
            long dataLength = size - dataStart;
            SafetensorsHeader header = SafetensorsHeader.parse(file, json.array(), dataLength);
            long n = (dataLength + chunkSize - 1) / chunkSize;
            if (n > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("chunk size " + chunkSize + " too small for " + dataLength + " bytes");
            }
            MappedByteBuffer[] chunks = new MappedByteBuffer[(int) n];
            for (int i = 0; i < n; i++) {
                long at = i * chunkSize;
                chunks[i] = ch.map(FileChannel.MapMode.READ_ONLY, dataStart + at, Math.min(chunkSize, dataLength - at));
            }
            return new SafetensorsFile(file, header, dataStart, dataLength, chunkSize, chunks);
        } catch (NoSuchFileException e) {
            throw new CheckpointException(file, "no such file", e);
        } catch (IOException e) {
            throw new CheckpointException(file, "cannot read: " + e, e);
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position, Path file) throws IOException {
        while (buf.hasRemaining()) {
            int r = ch.read(buf, position + buf.position());
            if (r < 0) {
                throw new CheckpointException(file, "file ends early while reading the header");
            }
        }
    }

    @Override
    public Path path() {
        return path;
    }

    /** The {@code __metadata__} map (empty when the file has none). */
    public Map<String, String> metadata() {
        return header.metadata();
    }

    @Override
    public List<String> names() {
        return names;
    }

    @Override
    public boolean contains(String name) {
        return header.entries().containsKey(name);
    }

    @Override
    public TensorInfo info(String name) {
        return entry(name).info();
    }

    private SafetensorsHeader.Entry entry(String name) {
        SafetensorsHeader.Entry e = header.entries().get(name);
        if (e == null) {
            throw CheckpointException.tensor(path, name, "no such tensor in this file");
        }
        return e;
    }

    /**
     * The tensor's bytes in this file: from {@code 8 + header length + begin}, {@code end - begin}
     * of them, little-endian in the tensor's dtype. The header's offsets were checked against the
     * data section on {@link #open} (inside it, not overlapping, exactly the dtype's size).
     */
    @Override
    public Optional<FileRegion> fileRegion(String name) {
        SafetensorsHeader.Entry e = entry(name);
        if (chunks == null) {
            throw CheckpointException.tensor(path, name, "file is closed");
        }
        return Optional.of(new FileRegion(path, dataStart + e.begin(), e.end() - e.begin()));
    }

    @Override
    public InputStream openRaw(String name) {
        SafetensorsHeader.Entry e = entry(name);
        MappedByteBuffer[] c = chunks;
        if (c == null) {
            throw CheckpointException.tensor(path, name, "file is closed");
        }
        return new MappedRangeStream(c, chunkSize, e.begin(), e.end());
    }

    @Override
    public void close() {
        chunks = null;
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + path + ", " + names.size() + " tensors, " + dataLength + " data bytes]";
    }

    /** Reads a byte range of the data section that may span several mapped chunks. */
    private static final class MappedRangeStream extends InputStream {
        private final MappedByteBuffer[] chunks;
        private final long chunkSize;
        private long pos;
        private final long end;

        MappedRangeStream(MappedByteBuffer[] chunks, long chunkSize, long begin, long end) {
            this.chunks = chunks;
            this.chunkSize = chunkSize;
            this.pos = begin;
            this.end = end;
        }

        @Override
        public int read() {
            if (pos >= end) {
                return -1;
            }
            int v = chunks[(int) (pos / chunkSize)].get((int) (pos % chunkSize)) & 0xff;
            pos++;
            return v;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (len == 0) {
                return 0;
            }
            if (pos >= end) {
                return -1;
            }
            int total = 0;
            while (len > 0 && pos < end) {
                MappedByteBuffer chunk = chunks[(int) (pos / chunkSize)];
                int inChunk = (int) (pos % chunkSize);
                int n = (int) Math.min(Math.min(len, end - pos), chunk.capacity() - inChunk);
                chunk.get(inChunk, b, off, n); // absolute bulk get: no shared position, thread-safe
                pos += n;
                off += n;
                len -= n;
                total += n;
            }
            return total;
        }

        @Override
        public int available() {
            return (int) Math.min(Integer.MAX_VALUE, end - pos);
        }
    }
}
