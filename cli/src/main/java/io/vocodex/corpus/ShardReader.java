package io.vocodex.corpus;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vocodex.VocodexException;
import io.vocodex.audio.Npy;
import org.apache.parquet.column.page.PageReadStore;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.convert.GroupRecordConverter;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.io.ColumnIOFactory;
import org.apache.parquet.io.LocalInputFile;
import org.apache.parquet.io.MessageColumnIO;
import org.apache.parquet.io.RecordReader;
import org.apache.parquet.schema.MessageType;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.BiConsumer;

/** Reads the {@code (id, codes)} of every row of a shard of any format (recognised from what it is). */
public final class ShardReader {
    private ShardReader() {
    }

    /** Calls {@code sink} with the id and {@code [codebooks][frames]} codes of each row, in order. */
    public static void forEach(Path shard, BiConsumer<String, int[][]> sink) {
        try {
            if (Files.isDirectory(shard)) {
                npy(shard, sink);
            } else if (!Files.isRegularFile(shard)) {
                throw new VocodexException(shard + ": no such shard");
            } else if (isParquet(shard)) {
                parquet(shard, sink);
            } else {
                jsonl(shard, sink);
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof VocodexException v) {
                throw v;
            }
            throw new VocodexException(shard + ": cannot read the shard: " + e.getMessage(), e);
        }
    }

    private static boolean isParquet(Path p) throws IOException {
        try (var in = Files.newInputStream(p)) {
            byte[] b = in.readNBytes(4);
            return b.length == 4 && new String(b, StandardCharsets.ISO_8859_1).equals("PAR1");
        }
    }

    private static void jsonl(Path p, BiConsumer<String, int[][]> sink) throws IOException {
        ObjectMapper om = new ObjectMapper();
        try (BufferedReader r = Files.newBufferedReader(p, StandardCharsets.UTF_8)) {
            String l;
            int line = 0;
            while ((l = r.readLine()) != null) {
                line++;
                if (l.isBlank()) {
                    continue;
                }
                JsonNode n = om.readTree(l);
                JsonNode c = n.get("codes");
                if (c == null || !c.isArray()) {
                    throw new VocodexException(p + ": line " + line + " has no \"codes\" array; not a tokenize jsonl shard");
                }
                int[][] codes = new int[c.size()][];
                for (int k = 0; k < codes.length; k++) {
                    codes[k] = new int[c.get(k).size()];
                    for (int t = 0; t < codes[k].length; t++) {
                        codes[k][t] = c.get(k).get(t).asInt();
                    }
                }
                sink.accept(n.get("id").asText(), codes);
            }
        }
    }

    private static void npy(Path dir, BiConsumer<String, int[][]> sink) throws IOException {
        Path index = dir.resolve(NpyShardWriter.INDEX);
        if (!Files.isRegularFile(index)) {
            throw new VocodexException(dir + ": no " + NpyShardWriter.INDEX + "; not a tokenize npy shard");
        }
        ObjectMapper om = new ObjectMapper();
        for (String l : Files.readAllLines(index, StandardCharsets.UTF_8)) {
            if (!l.isBlank()) {
                JsonNode n = om.readTree(l);
                sink.accept(n.get("id").asText(), Npy.read(dir.resolve(n.get("npy").asText())).ints2d());
            }
        }
    }

    private static void parquet(Path p, BiConsumer<String, int[][]> sink) throws IOException {
        try (ParquetFileReader r = ParquetFileReader.open(new LocalInputFile(p))) {
            MessageType schema = r.getFooter().getFileMetaData().getSchema();
            int k = 0;
            while (schema.containsField("codebook_" + k)) {
                k++;
            }
            if (k == 0 || !schema.containsField("id")) {
                throw new VocodexException(p + ": no id / codebook_0 columns; not a tokenize Parquet shard");
            }
            MessageColumnIO io = new ColumnIOFactory().getColumnIO(schema);
            PageReadStore pages;
            while ((pages = r.readNextRowGroup()) != null) {
                RecordReader<Group> rr = io.getRecordReader(pages, new GroupRecordConverter(schema));
                for (long i = 0; i < pages.getRowCount(); i++) {
                    Group g = rr.read();
                    int[][] codes = new int[k][];
                    for (int q = 0; q < k; q++) {
                        Group list = g.getGroup("codebook_" + q, 0);
                        int n = list.getFieldRepetitionCount("list");
                        codes[q] = new int[n];
                        for (int t = 0; t < n; t++) {
                            codes[q][t] = list.getGroup("list", t).getInteger("element", 0);
                        }
                    }
                    sink.accept(g.getString("id", 0), codes);
                }
            }
        }
    }
}
