package io.vocodex.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vocodex.VocodexException;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes float32 tensors as a safetensors file (see {@link SafetensorsFile} for the layout).
 * The file is written to a temporary sibling, forced to disk and renamed, so a reader never
 * sees a partial file.
 *
 * <pre>{@code
 * new SafetensorsWriter().put("w", new long[]{2, 3}, data).write(Path.of("out.safetensors"));
 * }</pre>
 */
public final class SafetensorsWriter {
    private record Entry(long[] shape, float[] data) {
    }

    private final Map<String, Entry> entries = new LinkedHashMap<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();

    /** Adds tensor {@code name} (F32, row-major) of {@code shape}. */
    public SafetensorsWriter put(String name, long[] shape, float[] data) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        if (n != data.length) {
            throw new VocodexException("tensor '" + name + "': shape needs " + n + " values, got " + data.length);
        }
        entries.put(name, new Entry(shape.clone(), data));
        return this;
    }

    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    /** Writes atomically to {@code path}. */
    public void write(Path path) {
        ObjectMapper om = new ObjectMapper();
        ObjectNode header = om.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode m = header.putObject("__metadata__");
            metadata.forEach(m::put);
        }
        long offset = 0;
        for (Map.Entry<String, Entry> e : entries.entrySet()) {
            ObjectNode t = header.putObject(e.getKey());
            t.put("dtype", "F32");
            ArrayNode s = t.putArray("shape");
            for (long d : e.getValue().shape()) {
                s.add(d);
            }
            long len = 4L * e.getValue().data().length;
            t.putArray("data_offsets").add(offset).add(offset + len);
            offset += len;
        }
        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
        int pad = (8 - json.length % 8) % 8; // align the data section to 8 bytes, as the reference writer does
        byte[] headerBytes = new byte[json.length + pad];
        System.arraycopy(json, 0, headerBytes, 0, json.length);
        for (int i = json.length; i < headerBytes.length; i++) {
            headerBytes[i] = ' ';
        }
        Path tmp = path.resolveSibling(path.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, headerBytes.length);
            writeAll(ch, len);
            writeAll(ch, ByteBuffer.wrap(headerBytes));
            for (Entry e : entries.values()) {
                ByteBuffer b = ByteBuffer.allocate(4 * e.data().length).order(ByteOrder.LITTLE_ENDIAN);
                b.asFloatBuffer().put(e.data());
                writeAll(ch, b);
            }
            ch.force(true);
        } catch (IOException e) {
            throw new VocodexException(tmp + ": write failed: " + e.getMessage(), e);
        }
        try {
            Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new VocodexException(path + ": rename from " + tmp + " failed: " + e.getMessage(), e);
        }
    }

    private static void writeAll(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /** Writes {@code bytes} to {@code path} atomically (temporary sibling, fsync, rename). */
    public static void writeAtomically(Path path, byte[] bytes) {
        Path tmp = path.resolveSibling(path.getFileName() + ".tmp");
        try (OutputStream out = Files.newOutputStream(tmp)) {
            out.write(bytes);
        } catch (IOException e) {
            throw new VocodexException(tmp + ": write failed: " + e.getMessage(), e);
        }
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            ch.force(true);
            Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new VocodexException(path + ": write failed: " + e.getMessage(), e);
        }
    }
}
