package io.vocodex.model;

import io.vocodex.VocodexException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The safetensors reader: round trips, every dtype, and every kind of corrupt file. */
class SafetensorsFileTest {
    @TempDir
    Path tmp;

    static byte[] file(String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        return b.array();
    }

    Path write(String name, byte[] bytes) throws Exception {
        Path p = tmp.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    VocodexException fails(byte[] bytes, String... fragments) throws Exception {
        Path p = write("bad.safetensors", bytes);
        VocodexException e = assertThrows(VocodexException.class, () -> {
            try (SafetensorsFile f = SafetensorsFile.open(p)) {
                f.floats(f.tensors().keySet().iterator().next());
            }
        });
        assertTrue(e.getMessage().contains(p.toString()), "message names the file: " + e.getMessage());
        for (String s : fragments) {
            assertTrue(e.getMessage().contains(s), "message mentions '" + s + "': " + e.getMessage());
        }
        return e;
    }

    @Test
    void roundTripsF32WithMetadata() {
        Path p = tmp.resolve("a.safetensors");
        float[] a = {1, -2.5f, 3e-8f, Float.MAX_VALUE, 0, 6};
        new SafetensorsWriter().metadata("k", "v").put("x.weight", new long[] {2, 3}, a).put("b", new long[] {0}, new float[0]).write(p);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertArrayEquals(a, f.floats("x.weight"));
            assertArrayEquals(new int[] {2, 3}, f.info("x.weight").intShape());
            assertEquals("v", f.metadata().get("k"));
            assertEquals(0, f.floats("b").length);
        }
    }

    @Test
    void readsHalfBfloatDoubleAndIntegers() throws Exception {
        // F16: 1.0 = 0x3c00, -2.0 = 0xc000, smallest subnormal 2^-24 = 0x0001, +inf = 0x7c00
        ByteBuffer f16 = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putShort((short) 0x3c00)
                .putShort((short) 0xc000).putShort((short) 0x0001).putShort((short) 0x7c00);
        // BF16: top half of the float32 bits
        ByteBuffer bf16 = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN)
                .putShort((short) (Float.floatToIntBits(1.5f) >>> 16)).putShort((short) (Float.floatToIntBits(-3f) >>> 16));
        ByteBuffer f64 = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putDouble(0.1);
        ByteBuffer i64 = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-7).putLong(1L << 40);
        ByteBuffer i32 = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(42);
        byte[] data = concat(f16.array(), bf16.array(), f64.array(), i64.array(), i32.array());
        String header = "{\"h\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[8,12]},"
                + "\"d\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[12,20]},"
                + "\"l\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[20,36]},"
                + "\"i\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[36,40]}}";
        try (SafetensorsFile f = SafetensorsFile.open(write("m.safetensors", file(header, data)))) {
            assertArrayEquals(new float[] {1f, -2f, (float) Math.pow(2, -24), Float.POSITIVE_INFINITY}, f.floats("h"));
            assertArrayEquals(new float[] {1.5f, -3f}, f.floats("b"));
            assertArrayEquals(new float[] {0.1f}, f.floats("d"));
            assertArrayEquals(new long[] {-7, 1L << 40}, f.longs("l"));
            assertArrayEquals(new long[] {42}, f.longs("i"));
            assertThrows(VocodexException.class, () -> f.floats("i"));
        }
    }

    @Test
    void halfPrecisionConversionMatchesFloat64ForEveryValue() {
        for (int bits = 0; bits < 0x10000; bits++) {
            int exp = (bits >>> 10) & 0x1f;
            int mant = bits & 0x3ff;
            double sign = (bits & 0x8000) != 0 ? -1 : 1;
            float got = Float.intBitsToFloat(SafetensorsFile.halfToFloatBits((short) bits));
            if (exp == 0x1f) {
                assertTrue(mant == 0 ? Float.isInfinite(got) : Float.isNaN(got), "bits " + bits);
                continue;
            }
            double want = exp == 0 ? sign * mant * Math.pow(2, -24) : sign * (1 + mant / 1024.0) * Math.pow(2, exp - 15);
            assertEquals(want, got, 0.0, "half bits 0x" + Integer.toHexString(bits));
        }
    }

    @Test
    void rejectsTooShortFile() throws Exception {
        fails(new byte[] {1, 2, 3}, "shorter than the 8-byte header length");
    }

    @Test
    void rejectsHeaderLongerThanFile() throws Exception {
        byte[] b = file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]);
        fails(Arrays.copyOf(b, 20), "truncated");
    }

    @Test
    void rejectsBadJson() throws Exception {
        fails(file("{\"a\": [1, 2", new byte[0]), "not valid JSON");
    }

    @Test
    void rejectsUnknownDtype() throws Exception {
        fails(file("{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[0,1]}}", new byte[1]), "'w'", "unknown dtype");
    }

    @Test
    void rejectsSizeMismatch() throws Exception {
        fails(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", new byte[8]), "'w'", "needs 12 bytes");
    }

    @Test
    void rejectsOffsetsPastTheData() throws Exception {
        fails(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", new byte[8]), "'w'", "run past");
    }

    @Test
    void rejectsOverlappingTensors() throws Exception {
        fails(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", new byte[12]), "overlap");
    }

    @Test
    void rejectsNegativeShapeAndMissingFields() throws Exception {
        fails(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,0]}}", new byte[0]), "negative");
        fails(file("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]), "missing \"dtype\"");
        fails(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", new byte[4]), "data_offsets");
    }

    @Test
    void missingFileIsAClearError() {
        VocodexException e = assertThrows(VocodexException.class, () -> SafetensorsFile.open(tmp.resolve("nope.safetensors")));
        assertTrue(e.getMessage().contains("no such file"));
    }

    @Test
    void truncatedRealFileIsRejected() throws Exception {
        Path p = tmp.resolve("w.safetensors");
        new SafetensorsWriter().put("a", new long[] {100}, new float[100]).put("b", new long[] {100}, new float[100]).write(p);
        byte[] all = Files.readAllBytes(p);
        fails(Arrays.copyOf(all, all.length - 10), "'b'", "run past");
    }

    static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int o = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, o, p.length);
            o += p.length;
        }
        return out;
    }
}
