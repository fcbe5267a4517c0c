// Reads doc/vectors/link-v1.txt, the protocol test vectors shared with the C
// board daemon's unit tests: sections "[kind name]" of "key = value" lines.
package dev.qbkit.qbnet.link;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

public final class VectorFile {
    public record Entry(String key, String value) {
    }

    public record Vector(String kind, String name, List<Entry> entries) {
        public String get(String key) {
            return entries.stream().filter(e -> e.key.equals(key)).map(Entry::value).findFirst().orElse(null);
        }

        public List<String> getAll(String key) {
            return entries.stream().filter(e -> e.key.equals(key)).map(Entry::value).toList();
        }

        public byte[] hex() {
            return HexFormat.of().parseHex(get("hex"));
        }

        boolean encodes() {
            return !"no".equals(get("encode"));
        }

        @Override
        public String toString() {
            return kind + " " + name;
        }
    }

    static Path path() {
        String configured = System.getProperty("qbnet.vectors");
        return Path.of(configured != null ? configured : "../doc/vectors/link-v1.txt");
    }

    public static List<Vector> load(String kind) {
        List<Vector> vectors = new ArrayList<>();
        try {
            String name = null;
            String currentKind = null;
            List<Entry> entries = null;
            for (String raw : Files.readAllLines(path())) {
                String line = raw.strip();
                if (line.isEmpty() || line.startsWith("#"))
                    continue;
                if (line.startsWith("[")) {
                    if (name != null && currentKind.equals(kind))
                        vectors.add(new Vector(currentKind, name, entries));
                    String[] header = line.substring(1, line.length() - 1).split(" ", 2);
                    currentKind = header[0];
                    name = header[1];
                    entries = new ArrayList<>();
                    continue;
                }
                int eq = line.indexOf(" = ");
                String key = eq < 0 ? line.replace(" =", "") : line.substring(0, eq);
                String value = eq < 0 ? "" : line.substring(eq + 3);
                entries.add(new Entry(key, value));
            }
            if (name != null && currentKind.equals(kind))
                vectors.add(new Vector(currentKind, name, entries));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (vectors.isEmpty())
            throw new IllegalStateException("no " + kind + " vectors in " + path());
        return vectors;
    }

    static Map<String, Integer> counts() {
        return Map.of("bundle", load("bundle").size(), "control", load("control").size());
    }

    private VectorFile() {
    }
}
