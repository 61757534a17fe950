package io.vocodex.corpus;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vocodex.VocodexException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The inputs of a tokenization job: every regular, non-hidden file under a folder (sorted, ids are
 * the paths relative to it), or the rows of a manifest (JSON lines or CSV with a header) naming
 * {@code path} and optionally {@code id} and {@code text}; relative paths are resolved against the
 * manifest's folder. Rows that cannot be used (no path, duplicate id, bad JSON) become
 * {@link Item#problem() problem} items that the job records as errors.
 */
public final class CorpusInput {
    /** One input: its key ({@code id}), the path as written in the output, the file, its text. */
    public record Item(String id, String path, Path file, String text, String problem) {
    }

    private CorpusInput() {
    }

    /** Items of {@code input}: a folder or a manifest file ({@code .jsonl}/{@code .json} or {@code .csv}). */
    public static List<Item> read(Path input, Path exclude) {
        if (Files.isDirectory(input)) {
            return fromDirectory(input, exclude);
        }
        if (!Files.isRegularFile(input)) {
            throw new VocodexException(input + ": no such folder or manifest file");
        }
        return fromManifest(input);
    }

    static List<Item> fromDirectory(Path root, Path exclude) {
        Path ex = exclude == null ? null : exclude.toAbsolutePath().normalize();
        List<Item> items = new ArrayList<>();
        try (Stream<Path> s = Files.walk(root)) {
            s.filter(Files::isRegularFile)
                    .filter(p -> ex == null || !p.toAbsolutePath().normalize().startsWith(ex))
                    .filter(p -> !hidden(root.relativize(p)))
                    .sorted()
                    .forEach(p -> {
                        String rel = root.relativize(p).toString().replace('\\', '/');
                        items.add(new Item(rel, rel, p, null, null));
                    });
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new VocodexException(root + ": cannot list the folder: " + e.getMessage(), e);
        }
        return items;
    }

    private static boolean hidden(Path rel) {
        for (Path part : rel) {
            if (part.toString().startsWith(".")) {
                return true;
            }
        }
        return false;
    }

    static List<Item> fromManifest(Path manifest) {
        List<String> lines;
        try {
            lines = Files.readAllLines(manifest, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new VocodexException(manifest + ": cannot read the manifest: " + e.getMessage(), e);
        }
        Path base = manifest.toAbsolutePath().getParent();
        String first = lines.stream().filter(l -> !l.isBlank()).findFirst().orElse("").strip();
        List<Item> raw = first.startsWith("{") ? jsonl(lines, manifest, base) : csv(lines, manifest, base);
        // duplicate ids become problems (the first occurrence wins)
        Map<String, Integer> seen = new HashMap<>();
        List<Item> out = new ArrayList<>(raw.size());
        for (int i = 0; i < raw.size(); i++) {
            Item it = raw.get(i);
            if (it.problem() == null) {
                Integer prev = seen.putIfAbsent(it.id(), i);
                if (prev != null) {
                    it = new Item(it.id() + "#dup" + i, it.path(), it.file(), it.text(),
                            "duplicate id '" + it.id() + "' (manifest row " + (i + 1) + ", first at row " + (prev + 1) + ")");
                }
            }
            out.add(it);
        }
        return out;
    }

    private static Item item(String id, String path, String text, Path base, int row, Path manifest) {
        if (path == null || path.isBlank()) {
            return new Item("manifest-row-" + row, manifest + ":" + row, null, null, "manifest row " + row + " has no path");
        }
        Path file = base.resolve(path);
        return new Item(id == null || id.isBlank() ? path : id, path, file, text, null);
    }

    private static List<Item> jsonl(List<String> lines, Path manifest, Path base) {
        ObjectMapper om = new ObjectMapper();
        List<Item> items = new ArrayList<>();
        int row = 0;
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i);
            if (l.isBlank()) {
                continue;
            }
            row++;
            try {
                JsonNode n = om.readTree(l);
                items.add(item(text(n, "id"), text(n, "path"), text(n, "text"), base, row, manifest));
            } catch (IOException e) {
                items.add(new Item("manifest-row-" + row, manifest + ":" + (i + 1), null, null,
                        "manifest line " + (i + 1) + " is not JSON: " + e.getMessage().lines().findFirst().orElse("")));
            }
        }
        return items;
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    private static List<Item> csv(List<String> lines, Path manifest, Path base) {
        List<List<String>> rows = parseCsv(String.join("\n", lines));
        if (rows.isEmpty()) {
            return List.of();
        }
        List<String> header = rows.get(0).stream().map(h -> h.strip().toLowerCase(java.util.Locale.ROOT)).toList();
        int ip = header.indexOf("path");
        if (ip < 0) {
            throw new VocodexException(manifest + ": CSV manifest needs a header row with a 'path' column (got "
                    + header + ")");
        }
        int ii = header.indexOf("id");
        int it = header.indexOf("text");
        List<Item> items = new ArrayList<>();
        for (int r = 1; r < rows.size(); r++) {
            List<String> f = rows.get(r);
            if (f.size() == 1 && f.get(0).isBlank()) {
                continue;
            }
            items.add(item(get(f, ii), get(f, ip), get(f, it), base, r, manifest));
        }
        return items;
    }

    private static String get(List<String> f, int i) {
        return i < 0 || i >= f.size() ? null : f.get(i);
    }

    /** RFC 4180 CSV: quoted fields with doubled quotes, commas and newlines inside quotes. */
    static List<List<String>> parseCsv(String s) {
        List<List<String>> rows = new ArrayList<>();
        List<String> row = new ArrayList<>();
        StringBuilder f = new StringBuilder();
        boolean q = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (q) {
                if (c == '"') {
                    if (i + 1 < s.length() && s.charAt(i + 1) == '"') {
                        f.append('"');
                        i++;
                    } else {
                        q = false;
                    }
                } else {
                    f.append(c);
                }
            } else if (c == '"') {
                q = true;
            } else if (c == ',') {
                row.add(f.toString());
                f.setLength(0);
            } else if (c == '\n' || c == '\r') {
                if (c == '\r' && i + 1 < s.length() && s.charAt(i + 1) == '\n') {
                    i++;
                }
                row.add(f.toString());
                f.setLength(0);
                rows.add(row);
                row = new ArrayList<>();
            } else {
                f.append(c);
            }
        }
        if (f.length() > 0 || !row.isEmpty()) {
            row.add(f.toString());
            rows.add(row);
        }
        return rows;
    }

}
