package org.jmamba.io.torch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.jmamba.io.CheckpointException;
import org.jmamba.io.DType;
import org.jmamba.io.GoldenFiles;
import org.jmamba.io.HalfFloats;
import org.jmamba.io.safetensors.SafetensorsFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TorchCheckpointTest {
    @TempDir
    Path dir;

    private static final long[] V4 = {4};
    private static final long[] S1 = {1};

    private Path zip(byte[] pickle, Map<String, byte[]> storages) throws IOException {
        Path p = dir.resolve("pytorch_model.bin");
        PickleWriter.zip(p, pickle, storages, true);
        return p;
    }

    private static void assertFails(Path p, String... fragments) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(p).close());
        assertTrue(e.getMessage().contains(p.getFileName().toString()), "names the file: " + e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "'" + e.getMessage() + "' should contain '" + f + "'");
        }
    }

    @Test
    void goldenPytorchModelMatchesTheSafetensorsCopy() {
        Path bin = GoldenFiles.golden("tiny/ssm-format/pytorch_model.bin");
        try (TorchCheckpoint t = TorchCheckpoint.open(bin);
             SafetensorsFile s = SafetensorsFile.open(GoldenFiles.golden("tiny/ssm-format/model.safetensors"))) {
            assertEquals(s.names().size(), t.names().size());
            assertEquals("backbone.embedding.weight", t.names().get(0));
            for (String n : s.names()) {
                assertEquals(s.info(n), t.info(n), n);
                assertArrayEquals(s.readFloats(n), t.readFloats(n), n);
            }
        }
    }

    @Test
    void storageOffsetsSharedStoragesAndDtypes() throws IOException {
        // one float storage of 10 elements holding two views: [2,2] at offset 1 and [3] at offset 7
        float[] st = {0f, 1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 9f};
        ByteBuffer bf = ByteBuffer.allocate(6).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : new float[] {1.5f, -2f, 3.25f}) {
            bf.putShort(HalfFloats.floatToBf16(f));
        }
        ByteBuffer half = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
        half.putShort(HalfFloats.floatToF16(0.5f)).putShort(HalfFloats.floatToF16(-8f));
        ByteBuffer longs = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-3).putLong(1L << 40);
        byte[] pkl = PickleWriter.stateDict(w -> {
            w.str("a").tensor("FloatStorage", "0", 10, 1, new long[] {2, 2}, new long[] {2, 1});
            w.str("b").tensor("FloatStorage", "0", 10, 7, new long[] {3}, S1);
            w.str("c").tensor("BFloat16Storage", "1", 3, 0, new long[] {3}, S1);
            w.str("d").tensor("HalfStorage", "2", 2, 0, new long[] {2, 1}, new long[] {1, 5}); // size-1 dim: any stride
            w.str("e").tensor("LongStorage", "3", 2, 0, new long[] {2}, S1);
        });
        Path p = zip(pkl, Map.of("0", PickleWriter.floats(st), "1", bf.array(), "2", half.array(), "3", longs.array()));
        try (TorchCheckpoint t = TorchCheckpoint.open(p)) {
            assertArrayEquals(new float[] {1f, 2f, 3f, 4f}, t.readFloats("a"));
            assertArrayEquals(new float[] {7f, 8f, 9f}, t.readFloats("b"));
            assertArrayEquals(new float[] {1.5f, -2f, 3.25f}, t.readFloats("c"));
            assertEquals(DType.BF16, t.info("c").dtype());
            assertArrayEquals(new float[] {0.5f, -8f}, t.readFloats("d"));
            assertArrayEquals(new long[] {-3, 1L << 40}, t.readLongs("e"));
        }
        // deflated entries read the same
        PickleWriter.zip(p, pkl, Map.of("0", PickleWriter.floats(st), "1", bf.array(), "2", half.array(),
                "3", longs.array()), false);
        try (TorchCheckpoint t = TorchCheckpoint.open(p)) {
            assertArrayEquals(new float[] {7f, 8f, 9f}, t.readFloats("b"));
        }
    }

    @Test
    void orderedDictWithMetadataAsModuleStateDictWritesIt() throws IOException {
        // torch.save(module.state_dict()): OrderedDict() then SETITEMS, then BUILD with
        // {'_metadata': OrderedDict({'': {'version': 1}})}; memo via LONG_BINPUT / MEMOIZE / LONG_BINGET.
        PickleWriter w = new PickleWriter().proto(2).global("collections", "OrderedDict").op(')').op('R');
        w.op('r').raw((byte) 0, (byte) 1, (byte) 0, (byte) 0); // LONG_BINPUT 256
        w.mark().str("w").tensor("FloatStorage", "0", 2, 0, new long[] {2}, S1).op(0x94);
        w.str("w2").op('j').raw((byte) 0, (byte) 1, (byte) 0, (byte) 0).op('0'); // LONG_BINGET 256 then POP
        w.tensor("DoubleStorage", "1", 1, 0, new long[] {}, new long[] {});
        w.op('u');
        w.op('}').str("_metadata").global("collections", "OrderedDict").op(')').op('R')
                .mark().str("").op('}').str("version").integer(1).op('s').op('u').op('s');
        w.op('b').op('.');
        ByteBuffer d = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putDouble(0.1);
        Path p = zip(w.bytes(), Map.of("0", PickleWriter.floats(3f, 4f), "1", d.array()));
        try (TorchCheckpoint t = TorchCheckpoint.open(p)) {
            assertEquals(java.util.List.of("w", "w2"), t.names());
            assertArrayEquals(new float[] {3f, 4f}, t.readFloats("w"));
            assertArrayEquals(new double[] {0.1}, t.readDoubles("w2"));
            assertEquals(0, t.info("w2").rank());
        }
    }

    @Test
    void forbiddenGlobalIsRejectedWithoutRunningAnything() throws IOException {
        // the classic exploit: os.system('touch pwned') via REDUCE
        byte[] pkl = new PickleWriter().proto(2).global("os", "system").mark().str("touch pwned").op('t').op('R')
                .op('.').bytes();
        Path p = zip(pkl, Map.of());
        assertFails(p, "GLOBAL", "forbidden global 'os.system'");
        assertTrue(!Files.exists(Path.of("pwned")));
        byte[] stack = new PickleWriter().proto(4).str("builtins").str("eval").op(0x93).op('.').bytes();
        assertFails(zip(stack, Map.of()), "STACK_GLOBAL", "forbidden global 'builtins.eval'");
        byte[] torchOther = new PickleWriter().proto(2).global("torch", "load").op('.').bytes();
        assertFails(zip(torchOther, Map.of()), "forbidden global 'torch.load'");
    }

    @Test
    void reduceOfAnythingElseIsRejected() throws IOException {
        byte[] pkl = new PickleWriter().proto(2).global("torch", "FloatStorage").op(')').op('R').op('.').bytes();
        assertFails(zip(pkl, Map.of()), "REDUCE", "calling torch.FloatStorage is not allowed");
        byte[] od = new PickleWriter().proto(2).global("collections", "OrderedDict").mark().integer(1).op('t').op('R')
                .op('.').bytes();
        assertFails(zip(od, Map.of()), "REDUCE", "OrderedDict called with arguments");
    }

    @Test
    void disallowedOpcodesAndProtocols() throws IOException {
        assertFails(zip(new PickleWriter().proto(2).op('i').raw("os\nsystem\n".getBytes()).op('.').bytes(), Map.of()),
                "opcode INST", "not allowed");
        assertFails(zip(new PickleWriter().proto(2).op(0x81).op('.').bytes(), Map.of()), "NEWOBJ");
        assertFails(zip(new PickleWriter().op('}').op('.').bytes(), Map.of()), "PROTO 2");
        assertFails(zip(new PickleWriter().proto(1).op('}').op('.').bytes(), Map.of()), "protocol 1");
        assertFails(zip(new PickleWriter().proto(2).op('}').bytes(), Map.of()), "without a STOP");
        assertFails(zip(new PickleWriter().proto(2).op('X').raw((byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0x7f).bytes(),
                Map.of()), "BINUNICODE", "remain");
        assertFails(zip(new PickleWriter().proto(2).op('h').op(9).op('.').bytes(), Map.of()), "BINGET", "never stored");
        assertFails(zip(new PickleWriter().proto(2).op('u').op('.').bytes(), Map.of()), "SETITEMS", "MARK");
        assertFails(zip(new PickleWriter().proto(2).op(0x8a).op(9).raw(new byte[9]).op('.').bytes(), Map.of()), "LONG1");
        assertFails(zip(new PickleWriter().proto(2).op(']').op('.').bytes(), Map.of()), "not a state dict");
    }

    @Test
    void tensorsThatDoNotFitTheirStorage() throws IOException {
        byte[] nonContig = PickleWriter.stateDict(w -> w.str("t").tensor("FloatStorage", "0", 4, 0,
                new long[] {2, 2}, new long[] {1, 2}));
        assertFails(zip(nonContig, Map.of("0", PickleWriter.floats(1, 2, 3, 4))), "tensor 't'", "not contiguous");
        byte[] past = PickleWriter.stateDict(w -> w.str("t").tensor("FloatStorage", "0", 4, 2, V4, S1));
        assertFails(zip(past, Map.of("0", PickleWriter.floats(1, 2, 3, 4))), "tensor 't'", "runs past its storage");
        byte[] ok = PickleWriter.stateDict(w -> w.str("t").tensor("FloatStorage", "0", 4, 0, V4, S1));
        assertFails(zip(ok, Map.of()), "tensor 't'", "archive/data/0", "missing");
        assertFails(zip(ok, Map.of("0", PickleWriter.floats(1, 2, 3))), "tensor 't'", "has 12 bytes");
        byte[] twoTypes = PickleWriter.stateDict(w -> {
            w.str("a").tensor("FloatStorage", "0", 4, 0, V4, S1);
            w.str("b").tensor("IntStorage", "0", 4, 0, V4, S1);
        });
        assertFails(zip(twoTypes, Map.of("0", PickleWriter.floats(1, 2, 3, 4))), "tensor 'b'", "two different types");
        byte[] notTensor = PickleWriter.stateDict(w -> w.str("n").integer(5));
        assertFails(zip(notTensor, Map.of()), "tensor 'n'", "not a tensor");
        byte[] badStorage = PickleWriter.stateDict(w -> w.str("t").tensor("ByteStorage", "0", 4, 0, V4, S1));
        assertFails(zip(badStorage, Map.of("0", new byte[4])), "forbidden global 'torch.ByteStorage'");
    }

    @Test
    void forgedZipDirectorySizesAreNotTrusted() throws IOException {
        long claimed = 0x7fff_ff00L; // ~2 GiB claimed for a 16-byte entry
        byte[] pkl = PickleWriter.stateDict(w -> w.str("t").tensor("FloatStorage", "0", claimed / 4, 0,
                new long[] {claimed / 4}, S1));
        Path p = zip(pkl, Map.of("0", PickleWriter.floats(1, 2, 3, 4)));
        byte[] b = Files.readAllBytes(p);
        byte[] name = "archive/data/0".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        int patched = 0;
        for (int i = 0; i + 46 < b.length; i++) {
            // central directory header: signature, sizes at +20/+24, name length at +28, name at +46
            if (bb.getInt(i) == 0x02014b50 && (bb.getShort(i + 28) & 0xffff) == name.length
                    && java.util.Arrays.equals(java.util.Arrays.copyOfRange(b, i + 46, i + 46 + name.length), name)) {
                bb.putInt(i + 20, (int) claimed).putInt(i + 24, (int) claimed);
                patched++;
            }
        }
        assertEquals(1, patched);
        Files.write(p, b);
        assertFails(p, "tensor 't'", "claims " + claimed + " bytes");
    }

    @Test
    void readingAfterCloseFailsCleanly() {
        TorchCheckpoint t = TorchCheckpoint.open(GoldenFiles.golden("tiny/ssm-format/pytorch_model.bin"));
        t.close();
        CheckpointException e = assertThrows(CheckpointException.class, () -> t.readFloats("backbone.norm_f.weight"));
        assertTrue(e.getMessage().contains("'backbone.norm_f.weight'"), e.getMessage());
    }

    @Test
    void notAZipOrNoPickle() throws IOException {
        Path legacy = dir.resolve("legacy.bin");
        Files.write(legacy, new PickleWriter().proto(2).op('}').op('.').bytes()); // pre-1.6 files start with a pickle
        assertFails(legacy, "not a zip archive");
        Path empty = dir.resolve("nopkl.bin");
        try (var z = new java.util.zip.ZipOutputStream(Files.newOutputStream(empty))) {
            z.putNextEntry(new java.util.zip.ZipEntry("archive/other"));
            z.closeEntry();
        }
        assertFails(empty, "no <name>/data.pkl");
        assertFails(dir.resolve("absent.bin"), "no such file");
    }
}
