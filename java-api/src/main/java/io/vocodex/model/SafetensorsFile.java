package io.vocodex.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vocodex.VocodexException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A memory-mapped, validating reader of the safetensors format.
 *
 * <h2>Format</h2>
 * <pre>
 *   bytes [0, 8)        N, the header length, unsigned 64-bit little-endian
 *   bytes [8, 8+N)      UTF-8 JSON object: { "NAME": {"dtype": "F32", "shape": [d0, ...],
 *                       "data_offsets": [begin, end]}, ..., "__metadata__": {string: string} }
 *   bytes [8+N, EOF)    the data section; a tensor's bytes are [8+N+begin, 8+N+end), little-endian,
 *                       row-major (C order)
 * </pre>
 * Validation at open: the header length fits the file, the JSON parses, every dtype is known,
 * every shape is a list of non-negative integers, {@code end - begin == numel * dtype size},
 * every range lies inside the data section and no two ranges overlap. Each failure throws a
 * {@link VocodexException} naming the file, the tensor and the problem.
 *
 * <pre>{@code
 * try (SafetensorsFile f = SafetensorsFile.open(Path.of("model.safetensors"))) {
 *     float[] w = f.floats("encoder.model.0.conv.conv.weight_v");
 * }
 * }</pre>
 */
public final class SafetensorsFile implements AutoCloseable {
    /** Headers larger than this are refused (the format's own reference reader uses 100 MB). */
    static final long MAX_HEADER_BYTES = 100L << 20;

    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;
    private volatile boolean closed;

    private SafetensorsFile(Path path, FileChannel channel, long dataStart, Map<String, TensorInfo> tensors,
                            Map<String, String> metadata) {
        this.path = path;
        this.channel = channel;
        this.dataStart = dataStart;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /** Opens and validates {@code path}; throws {@link VocodexException} on any problem. */
    public static SafetensorsFile open(Path path) {
        FileChannel ch;
        try {
            ch = FileChannel.open(path, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new VocodexException(path + ": no such file");
        } catch (IOException e) {
            throw new VocodexException(path + ": cannot open: " + e.getMessage(), e);
        }
        try {
            return parse(path, ch);
        } catch (RuntimeException e) {
            closeQuietly(ch);
            throw e;
        }
    }

    private static SafetensorsFile parse(Path path, FileChannel ch) {
        long size;
        try {
            size = ch.size();
        } catch (IOException e) {
            throw new VocodexException(path + ": cannot read size: " + e.getMessage(), e);
        }
        if (size < 8) {
            throw new VocodexException(path + ": not a safetensors file: " + size + " bytes, shorter than the 8-byte header length");
        }
        ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(path, ch, lenBuf, 0);
        long headerLen = lenBuf.getLong(0);
        if (headerLen < 2 || headerLen > MAX_HEADER_BYTES) {
            throw new VocodexException(path + ": not a safetensors file: header length " + Long.toUnsignedString(headerLen)
                    + " is outside [2, " + MAX_HEADER_BYTES + "]");
        }
        if (8 + headerLen > size) {
            throw new VocodexException(path + ": truncated: header length " + headerLen + " but the file has only "
                    + (size - 8) + " bytes after the length field");
        }
        ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
        readFully(path, ch, hb, 8);
        String json = new String(hb.array(), StandardCharsets.UTF_8);
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(json);
        } catch (JsonProcessingException e) {
            throw new VocodexException(path + ": header is not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new VocodexException(path + ": header is not a JSON object");
        }
        long dataStart = 8 + headerLen;
        long dataLen = size - dataStart;
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String name = e.getKey();
            JsonNode v = e.getValue();
            if (name.equals("__metadata__")) {
                if (!v.isObject()) {
                    throw new VocodexException(path + ": __metadata__ must be an object of strings");
                }
                v.fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                continue;
            }
            tensors.put(name, parseEntry(path, name, v, dataLen));
        }
        List<TensorInfo> byOffset = new ArrayList<>(tensors.values());
        byOffset.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        for (int i = 1; i < byOffset.size(); i++) {
            TensorInfo a = byOffset.get(i - 1);
            TensorInfo b = byOffset.get(i);
            if (b.begin() < a.end() && b.end() > b.begin()) {
                throw new VocodexException(path + ": tensors '" + a.name() + "' [" + a.begin() + ", " + a.end()
                        + ") and '" + b.name() + "' [" + b.begin() + ", " + b.end() + ") overlap");
            }
        }
        return new SafetensorsFile(path, ch, dataStart, Collections.unmodifiableMap(tensors),
                Collections.unmodifiableMap(metadata));
    }

    private static TensorInfo parseEntry(Path path, String name, JsonNode v, long dataLen) {
        String where = path + ": tensor '" + name + "': ";
        if (!v.isObject()) {
            throw new VocodexException(where + "entry is not an object");
        }
        JsonNode dt = v.get("dtype");
        if (dt == null || !dt.isTextual()) {
            throw new VocodexException(where + "missing \"dtype\"");
        }
        DType dtype = DType.parse(dt.asText());
        if (dtype == null) {
            throw new VocodexException(where + "unknown dtype \"" + dt.asText() + "\" (supported: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL)");
        }
        JsonNode sh = v.get("shape");
        if (sh == null || !sh.isArray()) {
            throw new VocodexException(where + "missing or non-array \"shape\"");
        }
        long[] shape = new long[sh.size()];
        long numel = 1;
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = sh.get(i);
            if (!d.canConvertToLong() || !d.isIntegralNumber() || d.asLong() < 0) {
                throw new VocodexException(where + "shape " + sh + " has a non-integer or negative dimension");
            }
            shape[i] = d.asLong();
            numel = Math.multiplyHigh(numel, shape[i]) != 0 ? Long.MAX_VALUE : numel * shape[i];
        }
        JsonNode off = v.get("data_offsets");
        if (off == null || !off.isArray() || off.size() != 2 || !off.get(0).isIntegralNumber() || !off.get(1).isIntegralNumber()) {
            throw new VocodexException(where + "missing or malformed \"data_offsets\" (want [begin, end])");
        }
        long begin = off.get(0).asLong();
        long end = off.get(1).asLong();
        if (begin < 0 || end < begin) {
            throw new VocodexException(where + "data_offsets [" + begin + ", " + end + "] are not an increasing range");
        }
        if (end > dataLen) {
            throw new VocodexException(where + "data_offsets [" + begin + ", " + end + "] run past the data section of "
                    + dataLen + " bytes (file truncated?)");
        }
        if (numel == Long.MAX_VALUE || numel * dtype.bytes() != end - begin) {
            throw new VocodexException(where + "shape " + sh + " x " + dtype + " (" + dtype.bytes() + " B) needs "
                    + (numel == Long.MAX_VALUE ? "too many" : String.valueOf(numel * dtype.bytes()))
                    + " bytes but data_offsets span " + (end - begin));
        }
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    private static void readFully(Path path, FileChannel ch, ByteBuffer buf, long pos) {
        try {
            while (buf.hasRemaining()) {
                int n = ch.read(buf, pos + buf.position());
                if (n < 0) {
                    throw new VocodexException(path + ": truncated while reading the header");
                }
            }
        } catch (IOException e) {
            throw new VocodexException(path + ": read failed: " + e.getMessage(), e);
        }
    }

    public Path path() {
        return path;
    }

    /** Tensor entries in header order (unmodifiable). */
    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /** The header entry of {@code name}; throws naming the file if absent. */
    public TensorInfo info(String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) {
            throw new VocodexException(path + ": no tensor named '" + name + "'");
        }
        return t;
    }

    /** The raw little-endian bytes of {@code name}, memory-mapped (read-only). */
    public ByteBuffer bytes(String name) {
        checkOpen();
        TensorInfo t = info(name);
        long len = t.end() - t.begin();
        if (len > Integer.MAX_VALUE) {
            throw new VocodexException(path + ": tensor '" + name + "' is " + len + " bytes, over the 2 GiB a single mapping holds");
        }
        try {
            MappedByteBuffer mb = channel.map(FileChannel.MapMode.READ_ONLY, dataStart + t.begin(), len);
            return mb.order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new VocodexException(path + ": cannot map tensor '" + name + "': " + e.getMessage(), e);
        }
    }

    /** Tensor {@code name} converted to float32 (from F32, F16, BF16 or F64). */
    public float[] floats(String name) {
        TensorInfo t = info(name);
        ByteBuffer b = bytes(name);
        int n = Math.toIntExact(t.numel());
        float[] out = new float[n];
        switch (t.dtype()) {
            case F32 -> b.asFloatBuffer().get(out);
            case F64 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = (float) b.getDouble(i * 8);
                }
            }
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = Float.intBitsToFloat(halfToFloatBits(b.getShort(i * 2)));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = Float.intBitsToFloat((b.getShort(i * 2) & 0xffff) << 16);
                }
            }
            default -> throw new VocodexException(path + ": tensor '" + name + "' has dtype " + t.dtype()
                    + "; a floating-point tensor (F32, F16, BF16, F64) is required here");
        }
        return out;
    }

    /** Tensor {@code name} as longs (from I64, I32, I16, I8, U8 or BOOL). */
    public long[] longs(String name) {
        TensorInfo t = info(name);
        ByteBuffer b = bytes(name);
        int n = Math.toIntExact(t.numel());
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            out[i] = switch (t.dtype()) {
                case I64 -> b.getLong(i * 8);
                case I32 -> b.getInt(i * 4);
                case I16 -> b.getShort(i * 2);
                case I8 -> b.get(i);
                case U8, BOOL -> b.get(i) & 0xff;
                default -> throw new VocodexException(path + ": tensor '" + name + "' has dtype " + t.dtype()
                        + "; an integer tensor is required here");
            };
        }
        return out;
    }

    /** IEEE 754 binary16 to binary32 bits, including subnormals, infinities and NaN. */
    public static int halfToFloatBits(short h) {
        int bits = h & 0xffff;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1f;
        int mant = bits & 0x3ff;
        if (exp == 0x1f) {
            return sign | 0x7f800000 | (mant << 13);
        }
        if (exp == 0) {
            if (mant == 0) {
                return sign;
            }
            // subnormal: normalise
            int e = -1;
            do {
                e++;
                mant <<= 1;
            } while ((mant & 0x400) == 0);
            mant &= 0x3ff;
            return sign | ((127 - 15 - e) << 23) | (mant << 13);
        }
        return sign | ((exp - 15 + 127) << 23) | (mant << 13);
    }

    private void checkOpen() {
        if (closed) {
            throw new VocodexException(path + ": safetensors file is closed");
        }
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing useful to do
        }
    }

    @Override
    public void close() {
        closed = true;
        closeQuietly(channel);
    }
}
