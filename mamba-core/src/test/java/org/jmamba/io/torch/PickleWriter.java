package org.jmamba.io.torch;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Emits pickle opcodes by hand (as CPython's protocol-2 pickler does), for crafting test files. */
final class PickleWriter {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    PickleWriter op(int opcode) {
        out.write(opcode);
        return this;
    }

    PickleWriter raw(byte... b) {
        out.writeBytes(b);
        return this;
    }

    PickleWriter proto(int v) {
        return op(0x80).op(v);
    }

    PickleWriter mark() {
        return op('(');
    }

    PickleWriter str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        op('X');
        out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(b.length).array());
        out.writeBytes(b);
        return this;
    }

    PickleWriter integer(long v) {
        if (v >= 0 && v < 256) {
            return op('K').op((int) v);
        }
        if (v >= 0 && v < 65536) {
            return op('M').op((int) (v & 0xff)).op((int) (v >> 8));
        }
        if (v == (int) v) {
            op('J');
            out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v).array());
            return this;
        }
        op(0x8a).op(8);
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
        return this;
    }

    PickleWriter global(String module, String name) {
        op('c');
        out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
        return this;
    }

    PickleWriter tuple(long... values) {
        mark();
        for (long v : values) {
            integer(v);
        }
        return op('t');
    }

    /**
     * One tensor as torch.save writes it:
     * {@code _rebuild_tensor_v2(persistent(('storage', torch.<type>, key, 'cpu', numel)), offset, size, stride, False, OrderedDict())}.
     */
    PickleWriter tensor(String storageType, String key, long numel, long offset, long[] size, long[] stride) {
        global("torch._utils", "_rebuild_tensor_v2");
        mark();
        mark().str("storage").global("torch", storageType).str(key).str("cpu").integer(numel).op('t').op('Q');
        integer(offset);
        tuple(size);
        tuple(stride);
        op(0x89); // False
        global("collections", "OrderedDict").op(')').op('R');
        op('t');
        return op('R');
    }

    byte[] bytes() {
        return out.toByteArray();
    }

    /** A state-dict pickle: {@code {name: tensor, ...}} built by {@code body}, then STOP. */
    static byte[] stateDict(java.util.function.Consumer<PickleWriter> body) {
        PickleWriter w = new PickleWriter().proto(2).op('}').mark();
        body.accept(w);
        return w.op('u').op('.').bytes();
    }

    /** Writes a torch.save-style zip: {@code archive/data.pkl}, {@code archive/data/<key>} entries. */
    static void zip(Path target, byte[] pickle, Map<String, byte[]> storages, boolean stored) throws IOException {
        try (OutputStream fo = Files.newOutputStream(target); ZipOutputStream z = new ZipOutputStream(fo)) {
            put(z, "archive/data.pkl", pickle, stored);
            put(z, "archive/byteorder", "little".getBytes(StandardCharsets.US_ASCII), stored);
            for (Map.Entry<String, byte[]> e : storages.entrySet()) {
                put(z, "archive/data/" + e.getKey(), e.getValue(), stored);
            }
            put(z, "archive/version", "3\n".getBytes(StandardCharsets.US_ASCII), stored);
        }
    }

    private static void put(ZipOutputStream z, String name, byte[] data, boolean stored) throws IOException {
        ZipEntry e = new ZipEntry(name);
        if (stored) {
            CRC32 crc = new CRC32();
            crc.update(data);
            e.setMethod(ZipEntry.STORED);
            e.setSize(data.length);
            e.setCompressedSize(data.length);
            e.setCrc(crc.getValue());
        }
        z.putNextEntry(e);
        z.write(data);
        z.closeEntry();
    }

    /** Little-endian bytes of floats. */
    static byte[] floats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        return b.array();
    }
}
