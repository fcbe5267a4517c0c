// Seed inputs for the robustness properties: every hex value of the shared
// protocol vectors (doc/vectors/link-v1.txt) by kind, and a mutator that
// turns a seed into the kind of damage a buggy or hostile peer produces.
package dev.qbkit.qbnet.robust;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;

final class Seeds {
    private Seeds() {
    }

    static Path vectorsPath() {
        String configured = System.getProperty("qbnet.vectors");
        return Path.of(configured != null ? configured : "../doc/vectors/link-v1.txt");
    }

    /** The hex values of every vector of {@code kind} ("bundle", "control"). */
    static List<byte[]> vectors(String kind) {
        List<byte[]> out = new ArrayList<>();
        try {
            String current = null;
            for (String raw : Files.readAllLines(vectorsPath())) {
                String line = raw.strip();
                if (line.startsWith("["))
                    current = line.substring(1, line.indexOf(' '));
                else if (kind.equals(current) && line.startsWith("hex = "))
                    out.add(HexFormat.of().parseHex(line.substring(6)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (out.isEmpty())
            throw new IllegalStateException("no " + kind + " vectors in " + vectorsPath());
        return out;
    }

    /** The IP frame payloads (channel 1) of the bundle vectors. */
    static List<byte[]> ipPacketsFromVectors() {
        List<byte[]> out = new ArrayList<>();
        try {
            for (String raw : Files.readAllLines(vectorsPath())) {
                String line = raw.strip();
                if (line.startsWith("frame = 1:") && line.length() > 10)
                    out.add(HexFormat.of().parseHex(line.substring(10)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    /** Bytes from the seeds, each mutated 0..8 times, mixed with plain random bytes. */
    static Arbitrary<byte[]> mutatedOrRandom(List<byte[]> seeds, int maxRandomLength) {
        Arbitrary<byte[]> mutated = Arbitraries.integers().between(0, seeds.size() - 1)
                .flatMap(i -> Arbitraries.longs().map(seed -> mutate(seeds.get(i), seeds, new Random(seed))));
        Arbitrary<byte[]> random = Arbitraries.bytes().array(byte[].class).ofMaxSize(maxRandomLength);
        return Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(4, mutated), net.jqwik.api.Tuple.of(1, random));
    }

    private static final long[] INTERESTING = { 0, 1, 2, 7, 8, 9, 15, 16, 19, 20, 39, 40, 0x7f, 0x80, 0xff, 0x100,
            576, 1280, 1500, 16383, 16384, 16385, 65535, 65536, 1 << 20, (1 << 20) + 1, 0x7fffffffL, 0xffffffffL };

    /** Applies 0..8 random edits: bit flips, interesting values (LE and BE), inserts, deletes, splices. */
    static byte[] mutate(byte[] seed, List<byte[]> others, Random r) {
        byte[] b = seed.clone();
        int edits = r.nextInt(9);
        for (int e = 0; e < edits; e++) {
            int op = r.nextInt(9);
            if (b.length == 0 && op < 6)
                op = 6;
            switch (op) {
                case 0 -> b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8));
                case 1 -> b[r.nextInt(b.length)] = (byte) INTERESTING[r.nextInt(INTERESTING.length)];
                case 2, 3 -> { // a u16/u32 field, little- or big-endian
                    int width = op == 2 ? 2 : 4;
                    if (b.length < width)
                        break;
                    int at = r.nextInt(b.length - width + 1);
                    long v = INTERESTING[r.nextInt(INTERESTING.length)] + (r.nextInt(3) - 1);
                    boolean le = r.nextBoolean();
                    for (int i = 0; i < width; i++)
                        b[at + i] = (byte) (v >>> (8 * (le ? i : width - 1 - i)));
                }
                case 4 -> b = Arrays.copyOf(b, r.nextInt(b.length + 1)); // truncate
                case 5 -> { // delete a range
                    int from = r.nextInt(b.length);
                    int to = from + r.nextInt(b.length - from + 1);
                    byte[] shorter = new byte[b.length - (to - from)];
                    System.arraycopy(b, 0, shorter, 0, from);
                    System.arraycopy(b, to, shorter, from, b.length - to);
                    b = shorter;
                }
                case 6 -> { // insert random bytes
                    int at = r.nextInt(b.length + 1);
                    byte[] extra = new byte[1 + r.nextInt(16)];
                    r.nextBytes(extra);
                    b = splice(b, at, extra);
                }
                case 7 -> { // duplicate a range
                    if (b.length == 0)
                        break;
                    int from = r.nextInt(b.length);
                    int to = from + 1 + r.nextInt(Math.min(64, b.length - from));
                    b = splice(b, r.nextInt(b.length + 1), Arrays.copyOfRange(b, from, to));
                }
                default -> { // splice in part of another seed
                    byte[] other = others.get(r.nextInt(others.size()));
                    if (other.length == 0)
                        break;
                    int from = r.nextInt(other.length);
                    int to = from + 1 + r.nextInt(other.length - from);
                    b = splice(b, r.nextInt(b.length + 1), Arrays.copyOfRange(other, from, to));
                }
            }
        }
        return b;
    }

    private static byte[] splice(byte[] b, int at, byte[] extra) {
        byte[] out = new byte[b.length + extra.length];
        System.arraycopy(b, 0, out, 0, at);
        System.arraycopy(extra, 0, out, at, extra.length);
        System.arraycopy(b, at, out, at + extra.length, b.length - at);
        return out;
    }
}
