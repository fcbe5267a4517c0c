// Runs every shared protocol vector through the Java decoder and encoder; the
// C board daemon runs the same file, so both sides agree byte for byte.
package dev.qbkit.qbnet.link;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import dev.qbkit.qbnet.link.ControlMessage.Config;
import dev.qbkit.qbnet.link.ControlMessage.Hello;
import dev.qbkit.qbnet.link.ControlMessage.Ipv4Prefix;
import dev.qbkit.qbnet.link.ControlMessage.Ipv6Prefix;
import dev.qbkit.qbnet.link.ControlMessage.Keepalive;

class ProtocolVectorsTest {
    private static final HexFormat HEX = HexFormat.of();

    @TestFactory
    Stream<DynamicTest> bundleVectors() {
        return VectorFile.load("bundle").stream().map(v -> DynamicTest.dynamicTest(v.name(), () -> checkBundle(v)));
    }

    @TestFactory
    Stream<DynamicTest> controlVectors() {
        return VectorFile.load("control").stream().map(v -> DynamicTest.dynamicTest(v.name(), () -> checkControl(v)));
    }

    @TestFactory
    Stream<DynamicTest> offloadVectors() {
        return VectorFile.load("offload").stream().filter(v -> "ok".equals(v.get("expect")))
                .map(v -> DynamicTest.dynamicTest(v.name(), () -> checkOffload(v)));
    }

    /** The host writes offload headers; it must produce the vector's first 8 bytes from its fields. */
    private static void checkOffload(VectorFile.Vector v) {
        byte[] bytes = v.hex();
        ByteBuffer buf = ByteBuffer.allocate(OffloadHeader.SIZE + 2);
        OffloadHeader.write(buf, 2, v.get("csum-partial").equals("yes") ? OffloadHeader.CSUM_PARTIAL : 0,
                Integer.parseInt(v.get("gso-type")), Integer.parseInt(v.get("gso-size")),
                Integer.parseInt(v.get("csum-start")), Integer.parseInt(v.get("csum-offset")));
        byte[] header = new byte[OffloadHeader.SIZE];
        buf.get(2, header);
        assertArrayEquals(java.util.Arrays.copyOf(bytes, OffloadHeader.SIZE), header);
    }

    private static void checkBundle(VectorFile.Vector v) {
        byte[] bytes = v.hex();
        // Decode from an offset inside a larger buffer, as transports do.
        ByteBuffer buf = ByteBuffer.allocate(bytes.length + 3);
        buf.put(3, bytes);
        String max = v.get("max-bundle");
        int maxBundle = max == null ? Bundles.ABSOLUTE_MAX : Integer.parseInt(max);
        BundleDrop drop = Bundles.validate(buf, 3, bytes.length, maxBundle);
        String expect = v.get("expect");
        if (!expect.equals("ok")) {
            assertNotNull(drop, "vector must be dropped");
            assertEquals(expect, "drop:" + drop.wireName());
            return;
        }
        assertNull(drop, "vector must be accepted");
        List<String> frames = new ArrayList<>();
        Bundles.forEachFrame(buf, 3, bytes.length, (channel, b, off, len) -> {
            byte[] payload = new byte[len];
            b.get(off, payload);
            frames.add(channel + ":" + HEX.formatHex(payload));
        });
        assertEquals(v.getAll("frame"), frames);
        if (!v.encodes())
            return;
        BundleBuilder builder = new BundleBuilder();
        builder.start(ByteBuffer.allocateDirect(Bundles.ABSOLUTE_MAX), Bundles.ABSOLUTE_MAX);
        for (String frame : v.getAll("frame")) {
            String[] parts = frame.split(":", 2);
            builder.addFrame(Integer.parseInt(parts[0]), ByteBuffer.wrap(HEX.parseHex(parts[1])));
        }
        ByteBuffer out = builder.finish();
        byte[] encoded = new byte[out.remaining()];
        out.get(encoded);
        assertArrayEquals(bytes, encoded, () -> "encoded " + HEX.formatHex(encoded));
    }

    private static void checkControl(VectorFile.Vector v) throws Exception {
        byte[] bytes = v.hex();
        ControlCodec.Decoded decoded = ControlCodec.decode(bytes);
        String expect = v.get("expect");
        switch (expect) {
            case "drop:malformed" -> {
                assertNotNull(decoded.malformed(), "must be malformed, got " + decoded);
                return;
            }
            case "ignore:unknown-type" -> {
                assertTrue(decoded.unknownType() >= 0, "must be an unknown type, got " + decoded);
                return;
            }
            default -> assertEquals("ok", expect);
        }
        assertTrue(decoded.isOk(), () -> "decode failed: " + decoded.malformed());
        ControlMessage expected = fromFields(v);
        assertEquals(expected, decoded.message());
        if (v.encodes())
            assertArrayEquals(bytes, ControlCodec.encode(expected),
                    () -> "encoded " + HEX.formatHex(ControlCodec.encode(expected)));
    }

    private static ControlMessage fromFields(VectorFile.Vector v) throws Exception {
        return switch (v.get("type")) {
            case "hello" -> {
                String[] version = v.get("version").split("-");
                yield new Hello(Integer.parseInt(version[0]), Integer.parseInt(version[1]),
                        v.get("role").equals("board") ? ControlMessage.ROLE_BOARD : ControlMessage.ROLE_HOST,
                        Long.parseLong(v.get("max-bundle")), intOr(v.get("mtu"), 0), v.get("serial"),
                        v.get("software"), intOr(v.get("caps"), 0),
                        v.get("instance") == null ? 0 : Long.parseUnsignedLong(v.get("instance"), 16));
            }
            case "config" -> new Config(Integer.parseInt(v.get("mtu")), prefix4(v.get("ipv4")),
                    v.get("gateway4") == null ? null : ControlCodec.inet4(InetAddress.getByName(v.get("gateway4")).getAddress()),
                    v.getAll("dns4").stream().map(a -> ControlCodec.inet4(parse(a))).toList(),
                    v.get("ipv6") == null ? null : prefix6(v.get("ipv6")),
                    v.get("gateway6") == null ? null : ControlCodec.inet6(parse(v.get("gateway6"))),
                    v.getAll("dns6").stream().map(a -> ControlCodec.inet6(parse(a))).toList());
            case "keepalive" -> new Keepalive(Long.parseLong(v.get("seq")),
                    v.get("echo") == null ? -1 : Long.parseLong(v.get("echo")));
            case "error" -> new ControlMessage.Error(Integer.parseInt(v.get("code")), v.get("text"));
            default -> throw new IllegalArgumentException(v.get("type"));
        };
    }

    private static int intOr(String s, int fallback) {
        return s == null ? fallback : Integer.parseInt(s);
    }

    private static byte[] parse(String address) {
        try {
            return InetAddress.getByName(address).getAddress();
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException(address, e);
        }
    }

    private static Ipv4Prefix prefix4(String s) {
        String[] parts = s.split("/");
        return new Ipv4Prefix(ControlCodec.inet4(parse(parts[0])), Integer.parseInt(parts[1]));
    }

    private static Ipv6Prefix prefix6(String s) {
        String[] parts = s.split("/");
        return new Ipv6Prefix(ControlCodec.inet6(parse(parts[0])), Integer.parseInt(parts[1]));
    }
}
