// The committed inputs of the host's fuzz tests, in Jazzer's layout:
// src/test/resources/<package>/<Class>Inputs/<method>/<name>. Seeds written
// by code are checked against that code here, so a change of input format
// cannot quietly turn them into noise; -Dqbnet.fuzz.writeSeeds=true rewrites them.
package dev.qbkit.qbnet.robust;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

public final class FuzzSeeds {
    public static final String WRITE_PROPERTY = "qbnet.fuzz.writeSeeds";

    private FuzzSeeds() {
    }

    /** Where Jazzer looks for the inputs of {@code test}'s fuzz test {@code method}, in the source tree. */
    public static Path directory(Class<?> test, String method) {
        return Path.of("src", "test", "resources").resolve(test.getPackageName().replace('.', '/'))
                .resolve(test.getSimpleName() + "Inputs").resolve(method);
    }

    /**
     * Each named seed file holds exactly these bytes (other files, such as
     * Jazzer's crash-* findings, may sit beside them). With the system
     * property {@value #WRITE_PROPERTY} the files are written instead.
     */
    public static void check(Class<?> test, String method, Map<String, byte[]> seeds) {
        Path dir = directory(test, method);
        boolean write = Boolean.getBoolean(WRITE_PROPERTY);
        try {
            if (write)
                Files.createDirectories(dir);
            for (Map.Entry<String, byte[]> e : seeds.entrySet()) {
                Path file = dir.resolve(e.getKey());
                if (write) {
                    Files.write(file, e.getValue());
                    continue;
                }
                String fix = "regenerate with: mvn test -Dtest=" + test.getSimpleName() + " -D" + WRITE_PROPERTY + "=true";
                assertTrue(Files.isRegularFile(file), file + " is missing; " + fix);
                assertArrayEquals(e.getValue(), Files.readAllBytes(file), file + " is stale; " + fix);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every input file of a fuzz test method, by name (regression inputs and findings alike). */
    public static Map<String, byte[]> read(Class<?> test, String method) {
        Map<String, byte[]> out = new TreeMap<>();
        try (Stream<Path> files = Files.walk(directory(test, method))) {
            for (Path f : files.filter(Files::isRegularFile).toList())
                out.put(directory(test, method).relativize(f).toString(), Files.readAllBytes(f));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }
}
