package org.jmamba.io.safetensors;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.jmamba.io.CheckpointException;
import org.jmamba.io.GoldenFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Malformed and hostile files: each must fail with a message naming the file (and tensor). */
class SafetensorsHostileTest {
    @TempDir
    Path dir;

    /** A file with the given length prefix, header text and {@code dataBytes} zero bytes of data. */
    private Path file(String name, long headerLength, String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(headerLength).put(h);
        Path p = dir.resolve(name);
        Files.write(p, b.array());
        return p;
    }

    private Path file(String name, String header, int dataBytes) throws IOException {
        return file(name, header.getBytes(StandardCharsets.UTF_8).length, header, dataBytes);
    }

    private static void assertFails(Path p, String... fragments) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> SafetensorsFile.open(p).close());
        String m = e.getMessage();
        assertTrue(m.contains(p.getFileName().toString()), "message names the file: " + m);
        for (String f : fragments) {
            assertTrue(m.contains(f), "message '" + m + "' should contain '" + f + "'");
        }
    }

    @Test
    void truncatedGoldenFile() throws IOException {
        byte[] all = Files.readAllBytes(GoldenFiles.golden("tiny/model.safetensors"));
        Path p = dir.resolve("truncated.safetensors");
        Files.write(p, Arrays.copyOf(all, all.length / 2));
        assertFails(p, "out of range", "tensor '");
        Path q = dir.resolve("tiny.safetensors");
        Files.write(q, Arrays.copyOf(all, 5));
        assertFails(q, "shorter than the 8-byte header length");
        Path r = dir.resolve("headerCut.safetensors");
        Files.write(r, Arrays.copyOf(all, 100));
        assertFails(r, "header length", "exceeds the file size");
    }

    @Test
    void headerLengthBeyondFileSize() throws IOException {
        assertFails(file("long.safetensors", 1000, "{}", 0), "header length 1000 exceeds the file size");
    }

    @Test
    void hugeHeaderLengthsAreRejectedBeforeAllocating() throws IOException {
        assertFails(file("huge.safetensors", 1L << 62, "{}", 0), "header length " + (1L << 62));
        assertFails(file("negative.safetensors", -8, "{}", 0), "header length 18446744073709551608");
    }

    @Test
    void overlappingOffsets() throws IOException {
        assertFails(file("overlap.safetensors", """
                {"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},
                 "b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}""", 16), "overlap", "'a'", "'b'");
    }

    @Test
    void offsetsOutOfRange() throws IOException {
        assertFails(file("range.safetensors", """
                {"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", 12), "tensor 'a'", "out of range");
        assertFails(file("reversed.safetensors", """
                {"a":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}}""", 12), "tensor 'a'", "end before they begin");
        assertFails(file("negoff.safetensors", """
                {"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}""", 12), "tensor 'a'", "data_offsets");
        assertFails(file("bigoff.safetensors", """
                {"a":{"dtype":"F32","shape":[1],"data_offsets":[0,99999999999999999999999]}}""", 12), "tensor 'a'");
    }

    @Test
    void shapeAndByteLengthMismatch() throws IOException {
        assertFails(file("mismatch.safetensors", """
                {"w":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,24]}}""", 24), "tensor 'w'", "needs 12 bytes", "span 24");
        assertFails(file("overflow.safetensors", """
                {"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}""", 4), "tensor 'w'", "overflows");
        assertFails(file("negdim.safetensors", """
                {"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}""", 4), "tensor 'w'", "non-negative");
        assertFails(file("fracdim.safetensors", """
                {"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}""", 4), "tensor 'w'", "non-negative integer");
    }

    @Test
    void unknownDtype() throws IOException {
        assertFails(file("dtype.safetensors", """
                {"w":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4]}}""", 4), "tensor 'w'", "unsupported dtype 'F8_E4M3'");
        assertFails(file("nodtype.safetensors", """
                {"w":{"shape":[4],"data_offsets":[0,4]}}""", 4), "tensor 'w'", "dtype");
    }

    @Test
    void badJson() throws IOException {
        assertFails(file("json.safetensors", "{\"w\": {\"dtype\": ", 0), "not valid JSON");
        assertFails(file("array.safetensors", "[1, 2, 3]   ", 0), "not a JSON object");
        assertFails(file("trailing.safetensors", "{} {}", 0), "not valid JSON");
        assertFails(file("dup.safetensors", """
                {"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},
                 "w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8), "Duplicate field 'w'");
        assertFails(file("meta.safetensors", """
                {"__metadata__":{"format":7}}""", 0), "__metadata__", "'format'");
        assertFails(file("extra.safetensors", """
                {"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"exec":"rm"}}""", 4), "tensor 'w'", "unknown header field 'exec'");
        byte[] bad = {'{', '"', (byte) 0xff, (byte) 0xfe, '"', ':', '1', '}'};
        Path p = dir.resolve("utf8.safetensors");
        Files.write(p, ByteBuffer.allocate(8 + bad.length).order(ByteOrder.LITTLE_ENDIAN).putLong(bad.length).put(bad).array());
        assertFails(p, "not valid JSON");
    }

    @Test
    void missingFile() {
        assertFails(dir.resolve("absent.safetensors"), "no such file");
    }

    @Test
    void spacePaddedHeaderAndGapsAreAccepted() throws IOException {
        Path p = file("ok.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}      ", 8);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            org.junit.jupiter.api.Assertions.assertArrayEquals(new float[] {0f}, f.readFloats("a"));
        }
    }
}
