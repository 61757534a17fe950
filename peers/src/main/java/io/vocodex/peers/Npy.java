package io.vocodex.peers;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the two NumPy {@code .npy} files the peer benchmarks exchange (written by
 * {@code io.vocodex.bench.PeerSide write}): a float32 vector (the input audio) and an int32 matrix
 * (Vocodex's codes {@code [K, T]}). Little-endian, C order, format version 1 or 2 only.
 *
 * <pre>{@code
 * float[] pcm = Npy.readFloats(Path.of("build/bench/mimi/input.npy"));
 * }</pre>
 */
final class Npy {
    private static final Pattern DESCR = Pattern.compile("'descr':\\s*'([^']+)'");
    private static final Pattern SHAPE = Pattern.compile("'shape':\\s*\\(([^)]*)\\)");

    private Npy() {
    }

    static float[] readFloats(Path file) throws IOException {
        Array a = read(file, "<f4");
        float[] out = new float[a.count()];
        a.data.asFloatBuffer().get(out);
        return out;
    }

    static int[][] readInts2d(Path file) throws IOException {
        Array a = read(file, "<i4");
        if (a.shape.length != 2) {
            throw new IOException(file + ": expected a 2-D array, got " + a.shape.length + "-D");
        }
        int[][] out = new int[a.shape[0]][a.shape[1]];
        for (int[] row : out) {
            a.data.asIntBuffer().get(row);
            a.data.position(a.data.position() + 4 * row.length);
        }
        return out;
    }

    private record Array(int[] shape, ByteBuffer data) {
        int count() {
            int n = 1;
            for (int d : shape) {
                n *= d;
            }
            return n;
        }
    }

    private static Array read(Path file, String descr) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        if (b.remaining() < 10 || b.get(0) != (byte) 0x93 || b.get(1) != 'N') {
            throw new IOException(file + ": not a .npy file");
        }
        int major = b.get(6);
        int headerLen = major == 1 ? Short.toUnsignedInt(b.getShort(8)) : b.getInt(8);
        int start = major == 1 ? 10 : 12;
        String header = new String(b.array(), start, headerLen, StandardCharsets.US_ASCII);
        Matcher d = DESCR.matcher(header);
        Matcher s = SHAPE.matcher(header);
        if (!d.find() || !s.find() || header.contains("'fortran_order': True")) {
            throw new IOException(file + ": unsupported header " + header.trim());
        }
        if (!d.group(1).equals(descr)) {
            throw new IOException(file + ": dtype " + d.group(1) + ", expected " + descr);
        }
        String[] parts = s.group(1).split(",");
        int dims = 0;
        int[] shape = new int[parts.length];
        for (String p : parts) {
            if (!p.isBlank()) {
                shape[dims++] = Integer.parseInt(p.trim());
            }
        }
        ByteBuffer data = b.position(start + headerLen).slice().order(ByteOrder.LITTLE_ENDIAN);
        return new Array(java.util.Arrays.copyOf(shape, dims), data);
    }
}
