package io.vocodex.corpus;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vocodex.VocodexException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code manifest.jsonl}, the job's commit log: one line per commit, appended with one write and
 * fsynced. A line names the shard it commits (or none when it only records errors), the ids of its
 * rows and the errors seen since the previous commit. A line is the commit point: the shard was
 * complete and synced under its temporary name before the line was written, and is renamed to its
 * final name after; a run that finds a committed shard still under its temporary name finishes the
 * rename. A torn last line (a kill during the append) is cut off on the next open.
 */
final class JobLog {
    static final String NAME = "manifest.jsonl";
    private static final ObjectMapper OM = new ObjectMapper();

    /** One committed line. */
    record Entry(String shard, int index, List<String> ids, List<ErrorRecord> errors, long frames, double seconds) {
    }

    /** A failed input. */
    record ErrorRecord(String id, String path, String reason) {
    }

    private final Path file;
    private final List<Entry> entries = new ArrayList<>();

    private JobLog(Path file) {
        this.file = file;
    }

    /** Opens (creating) the log in {@code dir}, cutting off a torn last line. */
    static JobLog open(Path dir) {
        JobLog log = new JobLog(dir.resolve(NAME));
        if (!Files.exists(log.file)) {
            return log;
        }
        byte[] b;
        try {
            b = Files.readAllBytes(log.file);
        } catch (IOException e) {
            throw new VocodexException(log.file + ": cannot read: " + e.getMessage(), e);
        }
        int good = 0;
        int start = 0;
        for (int i = 0; i < b.length; i++) {
            if (b[i] != '\n') {
                continue;
            }
            String line = new String(b, start, i - start, StandardCharsets.UTF_8);
            start = i + 1;
            if (line.isBlank()) {
                good = start;
                continue;
            }
            Entry e;
            try {
                e = parse(OM.readTree(line));
            } catch (IOException | RuntimeException ex) {
                if (i + 1 < b.length) {
                    throw new VocodexException(log.file + ": corrupt line in the middle of the log: " + ex.getMessage());
                }
                break; // a torn last line
            }
            log.entries.add(e);
            good = start;
        }
        if (good < b.length) {
            try (FileChannel ch = FileChannel.open(log.file, StandardOpenOption.WRITE)) {
                ch.truncate(good);
                ch.force(true);
            } catch (IOException e) {
                throw new VocodexException(log.file + ": cannot cut off the torn last line: " + e.getMessage(), e);
            }
        }
        return log;
    }

    private static Entry parse(JsonNode n) {
        List<String> ids = new ArrayList<>();
        for (JsonNode id : n.get("ids")) {
            ids.add(id.asText());
        }
        List<ErrorRecord> errors = new ArrayList<>();
        for (JsonNode e : n.get("errors")) {
            errors.add(new ErrorRecord(e.get("id").asText(), e.get("path").asText(), e.get("reason").asText()));
        }
        JsonNode shard = n.get("shard");
        return new Entry(shard == null || shard.isNull() ? null : shard.asText(), n.get("index").asInt(-1), ids, errors,
                n.get("frames").asLong(), n.get("seconds").asDouble());
    }

    List<Entry> entries() {
        return entries;
    }

    /** Appends {@code e} in one write and fsyncs: after this returns, the commit survives a crash. */
    void append(Entry e) {
        ObjectNode o = OM.createObjectNode();
        if (e.shard() == null) {
            o.putNull("shard");
        } else {
            o.put("shard", e.shard());
        }
        o.put("index", e.index());
        o.put("rows", e.ids().size());
        o.put("frames", e.frames());
        o.put("seconds", Math.round(e.seconds() * 1e3) / 1e3);
        ArrayNode ids = o.putArray("ids");
        e.ids().forEach(ids::add);
        ArrayNode errs = o.putArray("errors");
        for (ErrorRecord r : e.errors()) {
            errs.addObject().put("id", r.id()).put("path", r.path()).put("reason", r.reason());
        }
        byte[] line = (o + "\n").getBytes(StandardCharsets.UTF_8);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND)) {
            ByteBuffer bb = ByteBuffer.wrap(line);
            while (bb.hasRemaining()) {
                ch.write(bb);
            }
            ch.force(true);
        } catch (IOException ex) {
            throw new VocodexException(file + ": cannot append: " + ex.getMessage(), ex);
        }
        entries.add(e);
    }

    /** One errors.jsonl line. */
    static String errorLine(ErrorRecord r) {
        ObjectNode o = OM.createObjectNode();
        o.put("id", r.id()).put("path", r.path()).put("reason", r.reason());
        return o.toString();
    }
}
