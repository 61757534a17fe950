package io.vocodex.audio;

import io.vocodex.VocodexException;
import io.vocodex.model.SafetensorsWriter;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads and writes NumPy {@code .npy} arrays (format versions 1-3, little-endian, C order):
 * int32/int64/float32/float64 in, int32/float32 out. This is how codes and reference tensors
 * travel between Vocodex and Python.
 *
 * <pre>{@code
 * Npy.Array a = Npy.read(Path.of("codes.npy"));       // a.shape(), a.ints() or a.floats()
 * Npy.writeInts(Path.of("out.npy"), codes);           // int32 [codebooks, frames]
 * }</pre>
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private Npy() {
    }

    /** A loaded array: shape plus data as doubles (exact for every supported dtype up to 2^53). */
    public record Array(int[] shape, String dtype, double[] data) {
        public int size() {
            return data.length;
        }

        public float[] floats() {
            float[] f = new float[data.length];
            for (int i = 0; i < f.length; i++) {
                f[i] = (float) data[i];
            }
            return f;
        }

        public int[] ints() {
            int[] r = new int[data.length];
            for (int i = 0; i < r.length; i++) {
                r[i] = (int) data[i];
            }
            return r;
        }

        /** The array as {@code [rows][cols]}, {@code rows = shape[-2]} (leading dims of size 1 dropped). */
        public int[][] ints2d() {
            int cols = shape.length == 0 ? 1 : shape[shape.length - 1];
            int rows = cols == 0 ? 0 : data.length / cols;
            int[][] r = new int[rows][cols];
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    r[i][j] = (int) data[i * cols + j];
                }
            }
            return r;
        }

        /** The array as {@code [rows][cols]} floats, {@code cols = shape[-1]}. */
        public float[][] floats2d() {
            int cols = shape.length == 0 ? 1 : shape[shape.length - 1];
            int rows = cols == 0 ? 0 : data.length / cols;
            float[][] r = new float[rows][cols];
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    r[i][j] = (float) data[i * cols + j];
                }
            }
            return r;
        }
    }

    /** Reads {@code path}; throws {@link VocodexException} naming the file on any problem. */
    public static Array read(Path path) {
        byte[] b;
        try {
            b = Files.readAllBytes(path);
        } catch (NoSuchFileException e) {
            throw new VocodexException(path + ": no such file");
        } catch (IOException e) {
            throw new VocodexException(path + ": cannot read: " + e.getMessage(), e);
        }
        if (b.length < 10) {
            throw new VocodexException(path + ": not a .npy file (" + b.length + " bytes)");
        }
        for (int i = 0; i < MAGIC.length; i++) {
            if (b[i] != MAGIC[i]) {
                throw new VocodexException(path + ": not a .npy file (bad magic)");
            }
        }
        int major = b[6];
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        int headerLen;
        int dataStart;
        if (major == 1) {
            headerLen = bb.getShort(8) & 0xffff;
            dataStart = 10 + headerLen;
        } else if (major == 2 || major == 3) {
            headerLen = bb.getInt(8);
            dataStart = 12 + headerLen;
        } else {
            throw new VocodexException(path + ": unsupported .npy version " + major);
        }
        if (headerLen < 0 || dataStart > b.length) {
            throw new VocodexException(path + ": truncated .npy header");
        }
        String header = new String(b, dataStart - headerLen, headerLen, StandardCharsets.ISO_8859_1);
        Matcher md = DESCR.matcher(header);
        Matcher mf = FORTRAN.matcher(header);
        Matcher ms = SHAPE.matcher(header);
        if (!md.find() || !mf.find() || !ms.find()) {
            throw new VocodexException(path + ": malformed .npy header: " + header.trim());
        }
        String descr = md.group(1);
        String[] dims = ms.group(1).split(",");
        int n = 0;
        int[] shape = new int[dims.length];
        long numel = 1;
        for (String d : dims) {
            if (!d.isBlank()) {
                shape[n] = Integer.parseInt(d.trim());
                numel *= shape[n];
                n++;
            }
        }
        shape = java.util.Arrays.copyOf(shape, n);
        int size = switch (descr) {
            case "<f4", "<i4", "<u4" -> 4;
            case "<f8", "<i8", "<u8" -> 8;
            case "<i2", "<u2", "<f2" -> 2;
            case "|i1", "|u1", "|b1" -> 1;
            default -> throw new VocodexException(path + ": unsupported dtype '" + descr + "' (little-endian ints and floats only)");
        };
        if (dataStart + numel * size > b.length) {
            throw new VocodexException(path + ": truncated: shape " + java.util.Arrays.toString(shape) + " needs "
                    + numel * size + " data bytes, file has " + (b.length - dataStart));
        }
        double[] data = new double[(int) numel];
        for (int i = 0; i < numel; i++) {
            int o = dataStart + i * size;
            data[i] = switch (descr) {
                case "<f4" -> bb.getFloat(o);
                case "<f8" -> bb.getDouble(o);
                case "<i4" -> bb.getInt(o);
                case "<u4" -> bb.getInt(o) & 0xffffffffL;
                case "<i8", "<u8" -> bb.getLong(o);
                case "<i2" -> bb.getShort(o);
                case "<u2" -> bb.getShort(o) & 0xffff;
                case "<f2" -> Float.intBitsToFloat(io.vocodex.model.SafetensorsFile.halfToFloatBits(bb.getShort(o)));
                case "|i1" -> b[o];
                default -> b[o] & 0xff;
            };
        }
        if (mf.group(1).equals("True") && shape.length > 1) {
            data = fortranToC(data, shape);
        }
        return new Array(shape, descr, data);
    }

    /** Reorders column-major (Fortran) data into row-major (C) order. */
    static double[] fortranToC(double[] f, int[] shape) {
        double[] c = new double[f.length];
        int nd = shape.length;
        int[] idx = new int[nd];
        for (int i = 0; i < c.length; i++) {
            // i is the C-order linear index; idx its multi-index
            int fo = 0;
            int mult = 1;
            for (int d = 0; d < nd; d++) {
                fo += idx[d] * mult;
                mult *= shape[d];
            }
            c[i] = f[fo];
            for (int d = nd - 1; d >= 0; d--) {
                if (++idx[d] < shape[d]) {
                    break;
                }
                idx[d] = 0;
            }
        }
        return c;
    }

    /** Writes int32 {@code [rows][cols]}. */
    public static void writeInts(Path path, int[][] rows) {
        int r = rows.length;
        int c = r == 0 ? 0 : rows[0].length;
        ByteBuffer data = ByteBuffer.allocate(4 * r * c).order(ByteOrder.LITTLE_ENDIAN);
        for (int[] row : rows) {
            for (int v : row) {
                data.putInt(v);
            }
        }
        write(path, "<i4", new int[] {r, c}, data.array());
    }

    /** Writes float32 {@code data} with {@code shape}. */
    public static void writeFloats(Path path, float[] values, int... shape) {
        ByteBuffer data = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            data.putFloat(v);
        }
        write(path, "<f4", shape, data.array());
    }

    private static void write(Path path, String descr, int[] shape, byte[] data) {
        StringBuilder s = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            s.append(shape[i]).append(shape.length == 1 ? "," : (i + 1 < shape.length ? ", " : ""));
        }
        s.append(")");
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + s + ", }";
        int total = 10 + dict.length() + 1;
        int pad = (64 - total % 64) % 64;
        StringBuilder h = new StringBuilder(dict);
        h.append(" ".repeat(pad)).append('\n');
        byte[] hb = h.toString().getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer out = ByteBuffer.allocate(10 + hb.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        out.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) hb.length).put(hb).put(data);
        SafetensorsWriter.writeAtomically(path, out.array());
    }
}
