package org.jmamba.io.torch;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import org.jmamba.io.CheckpointException;
import org.jmamba.io.TensorInfo;
import org.jmamba.io.TensorSource;
import org.jmamba.io.torch.RestrictedUnpickler.StorageRef;
import org.jmamba.io.torch.RestrictedUnpickler.TensorRef;

/**
 * A {@code pytorch_model.bin} written by {@code torch.save(state_dict)} (the zip format of
 * PyTorch 1.6+): {@code <prefix>/data.pkl} is a pickle of a dict of tensors whose storages are
 * persistent ids {@code ('storage', torch.FloatStorage, key, location, numel)}, and the raw
 * little-endian elements of each storage are the entry {@code <prefix>/data/<key>}.
 *
 * <p>The pickle is read by {@link RestrictedUnpickler}, which executes nothing. On open every
 * tensor is checked: contiguous (row-major strides; dims of size 1 may have any stride), view
 * inside its storage, storage entry present with exactly {@code numel x element size} bytes, and
 * one dtype per storage. The legacy (pre-zip) {@code torch.save} format is not supported.
 */
public final class TorchCheckpoint implements TensorSource {
    /** Largest {@code data.pkl} accepted; a state dict's pickle is kilobytes to a few megabytes. */
    static final long MAX_PICKLE_BYTES = 256L << 20;

    private record Stored(TensorInfo info, StorageRef storage, long offset, String entry) {
    }

    private final Path path;
    private final ZipFile zip;
    private final Map<String, Stored> tensors;
    private final List<String> names;

    private TorchCheckpoint(Path path, ZipFile zip, Map<String, Stored> tensors) {
        this.path = path;
        this.zip = zip;
        this.tensors = Collections.unmodifiableMap(tensors);
        this.names = List.copyOf(tensors.keySet());
    }

    /** Opens and validates {@code file}. */
    public static TorchCheckpoint open(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new CheckpointException(file, "no such file");
        }
        ZipFile zip;
        try {
            zip = new ZipFile(file.toFile());
        } catch (ZipException e) {
            throw new CheckpointException(file, "not a zip archive (only the zip format of torch.save, "
                    + "PyTorch 1.6 and later, is supported): " + e.getMessage(), e);
        } catch (NoSuchFileException e) {
            throw new CheckpointException(file, "no such file", e);
        } catch (IOException e) {
            throw new CheckpointException(file, "cannot open: " + e, e);
        }
        boolean ok = false;
        try {
            TorchCheckpoint c = new TorchCheckpoint(file, zip, readIndex(file, zip));
            ok = true;
            return c;
        } finally {
            if (!ok) {
                closeQuietly(zip);
            }
        }
    }

    private static Map<String, Stored> readIndex(Path file, ZipFile zip) {
        String prefix = findPrefix(file, zip);
        ZipEntry order = zip.getEntry(prefix + "byteorder");
        if (order != null) {
            String bo = new String(readEntry(file, zip, order, 16), StandardCharsets.US_ASCII).trim();
            if (!bo.equals("little")) {
                throw new CheckpointException(file, "byteorder is '" + bo + "'; only little-endian checkpoints are supported");
            }
        }
        byte[] pickle = readEntry(file, zip, zip.getEntry(prefix + "data.pkl"), MAX_PICKLE_BYTES);
        Object root = RestrictedUnpickler.load(file, pickle);
        if (!(root instanceof Map<?, ?> dict)) {
            throw new CheckpointException(file, "data.pkl holds a " + RestrictedUnpickler.typeName(root)
                    + ", not a state dict");
        }
        Map<String, DTypeOf> storageTypes = new HashMap<>();
        Map<String, Stored> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : dict.entrySet()) {
            if (!(e.getKey() instanceof String name)) {
                throw new CheckpointException(file, "state dict key " + e.getKey() + " is not a string");
            }
            if (!(e.getValue() instanceof TensorRef t)) {
                throw CheckpointException.tensor(file, name, "value is a " + RestrictedUnpickler.typeName(e.getValue())
                        + ", not a tensor");
            }
            out.put(name, validate(file, zip, prefix, name, t, storageTypes));
        }
        return out;
    }

    /** The dtype a storage key was first seen with: one storage must not be read as two dtypes. */
    private record DTypeOf(StorageRef ref) {
    }

    private static Stored validate(Path file, ZipFile zip, String prefix, String name, TensorRef t,
                                   Map<String, DTypeOf> storageTypes) {
        StorageRef s = t.storage();
        DTypeOf seen = storageTypes.putIfAbsent(s.key(), new DTypeOf(s));
        if (seen != null && (seen.ref().dtype() != s.dtype() || seen.ref().numel() != s.numel())) {
            throw CheckpointException.tensor(file, name, "storage " + s.key() + " is referenced with two different types or sizes");
        }
        long[] shape = t.shape();
        long[] stride = t.stride();
        long numel = 1;
        try {
            for (long d : shape) {
                numel = Math.multiplyExact(numel, d);
            }
        } catch (ArithmeticException e) {
            throw CheckpointException.tensor(file, name, "shape " + Arrays.toString(shape) + " overflows");
        }
        // Contiguous row-major: stride[i] == product of the sizes after i (any stride for size 1).
        long expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && stride[i] != expected) {
                throw CheckpointException.tensor(file, name, "is not contiguous (shape " + Arrays.toString(shape)
                        + ", stride " + Arrays.toString(stride) + "); only contiguous tensors are supported");
            }
            expected = Math.multiplyExact(expected, Math.max(shape[i], 1));
        }
        if (numel > 0 && (t.offset() > s.numel() || numel > s.numel() - t.offset())) {
            throw CheckpointException.tensor(file, name, "view [offset " + t.offset() + ", " + numel
                    + " elements] runs past its storage of " + s.numel() + " elements");
        }
        String entryName = prefix + "data/" + s.key();
        ZipEntry entry = zip.getEntry(entryName);
        if (entry == null) {
            throw CheckpointException.tensor(file, name, "storage entry " + entryName + " is missing from the archive");
        }
        long bytes;
        try {
            bytes = Math.multiplyExact(s.numel(), (long) s.dtype().byteSize());
        } catch (ArithmeticException e) {
            throw CheckpointException.tensor(file, name, "storage size overflows");
        }
        checkEntrySizes(file, name, entry);
        if (entry.getSize() != bytes) {
            throw CheckpointException.tensor(file, name, "storage entry " + entryName + " has " + entry.getSize()
                    + " bytes but " + s.numel() + " " + s.dtype() + " elements need " + bytes);
        }
        return new Stored(new TensorInfo(name, s.dtype(), shape), s, t.offset(), entryName);
    }

    /**
     * The sizes in the zip's directory are claims: bound them by the real file so that a forged
     * directory cannot make a reader allocate far more than the file holds. A stored entry's size
     * is its compressed size; DEFLATE cannot expand data more than 1032-fold.
     */
    private static void checkEntrySizes(Path file, String name, ZipEntry entry) {
        long fileSize;
        try {
            fileSize = Files.size(file);
        } catch (IOException e) {
            throw new CheckpointException(file, "cannot stat: " + e, e);
        }
        long size = entry.getSize();
        long packed = entry.getCompressedSize();
        boolean plausible = size >= 0 && packed >= 0 && packed <= fileSize
                && (entry.getMethod() == ZipEntry.STORED ? size == packed : size <= packed * 1032 + 1024);
        if (!plausible) {
            throw CheckpointException.tensor(file, name, "storage entry " + entry.getName() + " claims " + size
                    + " bytes (" + packed + " compressed) in a file of " + fileSize + " bytes");
        }
    }

    /** The archive's single top-level folder holding {@code data.pkl}, with a trailing slash. */
    private static String findPrefix(Path file, ZipFile zip) {
        List<String> found = new ArrayList<>();
        for (Enumeration<? extends ZipEntry> en = zip.entries(); en.hasMoreElements(); ) {
            String n = en.nextElement().getName();
            int slash = n.indexOf('/');
            if (slash > 0 && n.substring(slash + 1).equals("data.pkl")) {
                found.add(n.substring(0, slash + 1));
            }
        }
        if (found.size() != 1) {
            throw new CheckpointException(file, found.isEmpty()
                    ? "no <name>/data.pkl entry: not a torch.save archive"
                    : "several data.pkl entries: " + found);
        }
        return found.get(0);
    }

    /** Reads a whole (small) entry, refusing more than {@code limit} bytes whatever the header claims. */
    private static byte[] readEntry(Path file, ZipFile zip, ZipEntry e, long limit) {
        try (InputStream in = zip.getInputStream(e)) {
            byte[] b = in.readNBytes((int) Math.min(limit + 1, Integer.MAX_VALUE - 8));
            if (b.length > limit) {
                throw new CheckpointException(file, "entry " + e.getName() + " exceeds " + limit + " bytes");
            }
            return b;
        } catch (IOException ex) {
            throw new CheckpointException(file, "cannot read entry " + e.getName() + ": " + ex, ex);
        }
    }

    @Override
    public Path path() {
        return path;
    }

    @Override
    public List<String> names() {
        return names;
    }

    @Override
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    private Stored stored(String name) {
        Stored s = tensors.get(name);
        if (s == null) {
            throw CheckpointException.tensor(path, name, "no such tensor in this file");
        }
        return s;
    }

    @Override
    public TensorInfo info(String name) {
        return stored(name).info();
    }

    @Override
    public InputStream openRaw(String name) {
        Stored s = stored(name);
        int size = s.storage().dtype().byteSize();
        long skip = s.offset() * size;
        long length = s.info().byteLength();
        try {
            ZipEntry entry = zip.getEntry(s.entry());
            if (entry == null) {
                throw CheckpointException.tensor(path, name, "storage entry " + s.entry() + " is missing");
            }
            InputStream in = zip.getInputStream(entry);
            try {
                in.skipNBytes(skip);
            } catch (IOException e) {
                in.close();
                throw CheckpointException.tensor(path, name, "storage entry " + s.entry() + " is shorter than declared", e);
            }
            return new Bounded(in, length);
        } catch (IOException | IllegalStateException e) { // IllegalStateException: the archive was closed
            throw CheckpointException.tensor(path, name, "cannot read storage entry " + s.entry() + ": " + e, e);
        }
    }

    @Override
    public void close() {
        closeQuietly(zip);
    }

    private static void closeQuietly(ZipFile z) {
        try {
            z.close();
        } catch (IOException ignored) {
            // nothing useful to do: the archive was only read
        }
    }

    /** At most {@code remaining} bytes of the underlying stream. */
    private static final class Bounded extends FilterInputStream {
        private long remaining;

        Bounded(InputStream in, long remaining) {
            super(in);
            this.remaining = remaining;
        }

        @Override
        public int read() throws IOException {
            if (remaining <= 0) {
                return -1;
            }
            int v = super.read();
            if (v >= 0) {
                remaining--;
            }
            return v;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (remaining <= 0) {
                return len == 0 ? 0 : -1;
            }
            int n = super.read(b, off, (int) Math.min(len, remaining));
            if (n > 0) {
                remaining -= n;
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            long k = super.skip(Math.min(n, remaining));
            remaining -= k;
            return k;
        }
    }
}
