// Properties of the channel-0 control codec: arbitrary and mutated payloads
// decode to exactly one outcome without throwing, and whatever decodes keeps
// doc/PROTOCOL.md section 4's ranges and survives re-encoding unchanged.
package dev.qbkit.qbnet.robust;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

import dev.qbkit.qbnet.link.Bundles;
import dev.qbkit.qbnet.link.ControlCodec;
import dev.qbkit.qbnet.link.ControlMessage;
import dev.qbkit.qbnet.link.ControlMessage.Config;
import dev.qbkit.qbnet.link.ControlMessage.Hello;
import dev.qbkit.qbnet.link.ControlMessage.Ipv4Prefix;
import dev.qbkit.qbnet.link.ControlMessage.Ipv6Prefix;
import dev.qbkit.qbnet.link.ControlMessage.Keepalive;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tag;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AddLifecycleHook;

@Tag("robust")
@AddLifecycleHook(ScaledTries.class)
class ControlCodecPropertyTest {
    private static final List<byte[]> SEEDS = Seeds.vectors("control");

    @Provide
    Arbitrary<byte[]> payloads() {
        return Seeds.mutatedOrRandom(SEEDS, 64);
    }

    @Property(tries = 3000)
    void anyPayloadDecodesToExactlyOneOutcome(@ForAll("payloads") byte[] payload,
            @ForAll @IntRange(max = 24) int offset) {
        ByteBuffer buf = BundlePropertyTest.embedded(payload, offset, 8, false);
        ControlCodec.Decoded d = ControlCodec.decode(buf, offset, payload.length);
        int outcomes = (d.message() != null ? 1 : 0) + (d.unknownType() >= 0 ? 1 : 0) + (d.malformed() != null ? 1 : 0);
        assertEquals(1, outcomes, "decoded " + d);
        if (payload.length > ControlCodec.MAX_PAYLOAD || payload.length < 2 || !tlvsFit(payload))
            assertNotNull(d.malformed(), "a payload of " + payload.length + " bytes whose TLVs "
                    + (tlvsFit(payload) ? "fit" : "run past its end") + " must be malformed");
        if (d.unknownType() >= 0)
            assertTrue(d.unknownType() < 1 || d.unknownType() > 4, "a known type was called unknown");
        if (!d.isOk())
            return;
        ControlMessage m = d.message();
        assertWithinProtocolRanges(m);
        int type = (payload[0] & 0xff) | (payload[1] & 0xff) << 8;
        assertEquals(type, typeOf(m), "decoded as another type");
        byte[] again = ControlCodec.encode(m);
        ControlCodec.Decoded redecoded = ControlCodec.decode(again);
        assertEquals(m, redecoded.message(), "re-encoding changed the message; malformed: " + redecoded.malformed());
        assertTrue(again.length <= ControlCodec.MAX_PAYLOAD);
    }

    /** Whether the TLVs after the type fill the payload exactly (section 4's framing, written apart from the codec). */
    static boolean tlvsFit(byte[] p) {
        int pos = 2;
        while (pos < p.length) {
            if (p.length - pos < 4)
                return false;
            pos += 4 + ((p[pos + 2] & 0xff) | (p[pos + 3] & 0xff) << 8);
        }
        return pos == p.length || p.length < 2;
    }

    static int typeOf(ControlMessage m) {
        return switch (m) {
            case Hello h -> ControlMessage.TYPE_HELLO;
            case Config c -> ControlMessage.TYPE_CONFIG;
            case Keepalive k -> ControlMessage.TYPE_KEEPALIVE;
            case ControlMessage.Error e -> ControlMessage.TYPE_ERROR;
        };
    }

    /** What section 4 promises a receiver about any message it accepted. */
    static void assertWithinProtocolRanges(ControlMessage m) {
        switch (m) {
            case Hello h -> {
                assertTrue(h.versionMin() >= 1 && h.versionMin() <= h.versionMax() && h.versionMax() <= 0xffff, "VERSION");
                assertTrue(h.role() == ControlMessage.ROLE_BOARD || h.role() == ControlMessage.ROLE_HOST, "ROLE");
                assertTrue(h.maxBundle() >= Bundles.MIN_ADVERTISED_MAX && h.maxBundle() <= Bundles.ABSOLUTE_MAX,
                        "MAX_BUNDLE " + h.maxBundle());
                assertTrue(h.mtu() == 0 || h.mtu() >= ControlCodec.MIN_MTU && h.mtu() <= 65535, "MTU " + h.mtu());
                assertStringBytes(h.serial(), 1, ControlCodec.MAX_STRING, "SERIAL");
                assertStringBytes(h.software(), 1, ControlCodec.MAX_STRING, "SOFTWARE");
                assertTrue(h.caps() >= 0 && h.caps() <= 0xffffffffL, "CAPS");
            }
            case Config c -> {
                assertTrue(c.mtu() >= (c.ipv6() != null ? ControlCodec.MIN_MTU_IPV6 : ControlCodec.MIN_MTU)
                        && c.mtu() <= 65535, "MTU " + c.mtu());
                assertNotNull(c.ipv4(), "IPV4_ADDRESS");
                assertTrue(c.ipv4().prefixLength() >= 1 && c.ipv4().prefixLength() <= 30, "IPv4 prefix");
                assertTrue(c.ipv6() == null || c.ipv6().prefixLength() >= 1 && c.ipv6().prefixLength() <= 128, "IPv6 prefix");
                assertTrue(c.dns4().size() <= ControlCodec.MAX_DNS && c.dns6().size() <= ControlCodec.MAX_DNS, "DNS count");
            }
            case Keepalive k -> assertTrue(k.seq() >= 0 && k.seq() <= 0xffffffffL && k.echo() >= -1
                    && k.echo() <= 0xffffffffL, "SEQ/ECHO");
            case ControlMessage.Error e -> {
                assertTrue(e.code() >= 0 && e.code() <= 0xffff, "ERROR_CODE");
                if (e.text() != null)
                    assertStringBytes(e.text(), 0, ControlCodec.MAX_ERROR_TEXT, "ERROR_TEXT");
            }
        }
    }

    private static void assertStringBytes(String s, int min, int max, String what) {
        if (s == null)
            return;
        // Invalid UTF-8 decodes with replacement characters, which may take more bytes than the wire did.
        int wire = s.getBytes(StandardCharsets.UTF_8).length;
        assertTrue(wire >= min && (wire <= max || s.indexOf('\uFFFD') >= 0), what + " of " + wire + " bytes");
    }

    // ---- valid messages round-trip -----------------------------------------

    static Arbitrary<String> text(int minBytes, int maxBytes) {
        return Arbitraries.strings().ofMinLength(minBytes).ofMaxLength(maxBytes)
                .filter(s -> !s.contains("\uFFFD"))
                .map(s -> s)
                .filter(s -> {
                    int n = s.getBytes(StandardCharsets.UTF_8).length;
                    return n >= minBytes && n <= maxBytes && new String(s.getBytes(StandardCharsets.UTF_8),
                            StandardCharsets.UTF_8).equals(s);
                });
    }

    static Arbitrary<Inet4Address> v4() {
        return Arbitraries.bytes().array(byte[].class).ofSize(4).map(b -> (Inet4Address) address(b));
    }

    static Arbitrary<Inet6Address> v6() {
        return Arbitraries.bytes().array(byte[].class).ofSize(16).map(b -> {
            try {
                return Inet6Address.getByAddress(null, b, -1);
            } catch (UnknownHostException e) {
                throw new AssertionError(e);
            }
        });
    }

    static InetAddress address(byte[] b) {
        try {
            return InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    @Provide
    Arbitrary<ControlMessage> messages() {
        Arbitrary<Hello> hello = Combinators.combine(
                Arbitraries.integers().between(1, 0xffff).flatMap(min -> Arbitraries.integers().between(min, 0xffff)
                        .map(max -> new int[] { min, max })),
                Arbitraries.of(ControlMessage.ROLE_BOARD, ControlMessage.ROLE_HOST),
                Arbitraries.longs().between(Bundles.MIN_ADVERTISED_MAX, Bundles.ABSOLUTE_MAX),
                Arbitraries.oneOf(Arbitraries.just(0), Arbitraries.integers().between(ControlCodec.MIN_MTU, 65535)),
                text(1, ControlCodec.MAX_STRING).injectNull(0.3),
                text(1, ControlCodec.MAX_STRING).injectNull(0.3),
                Arbitraries.longs().between(0, 0xffffffffL))
                .as((v, role, max, mtu, serial, software, caps) -> new Hello(v[0], v[1], role, max, mtu, serial, software, caps));
        Arbitrary<Config> config = Combinators.combine(
                Arbitraries.integers().between(ControlCodec.MIN_MTU_IPV6, 65535),
                Combinators.combine(v4(), Arbitraries.integers().between(1, 30)).as(Ipv4Prefix::new),
                v4().injectNull(0.3),
                v4().list().ofMaxSize(ControlCodec.MAX_DNS),
                Combinators.combine(v6(), Arbitraries.integers().between(1, 128)).as(Ipv6Prefix::new).injectNull(0.4),
                v6().injectNull(0.3),
                v6().list().ofMaxSize(ControlCodec.MAX_DNS))
                .as(Config::new);
        Arbitrary<Keepalive> keepalive = Combinators.combine(Arbitraries.longs().between(0, 0xffffffffL),
                Arbitraries.oneOf(Arbitraries.just(-1L), Arbitraries.longs().between(0, 0xffffffffL))).as(Keepalive::new);
        Arbitrary<ControlMessage.Error> error = Combinators.combine(Arbitraries.integers().between(0, 0xffff),
                text(0, ControlCodec.MAX_ERROR_TEXT).injectNull(0.3)).as(ControlMessage.Error::new);
        return Arbitraries.oneOf(hello, config, keepalive, error);
    }

    @Property(tries = 2000)
    void validMessagesRoundTrip(@ForAll("messages") ControlMessage m) {
        byte[] wire = ControlCodec.encode(m);
        ControlCodec.Decoded d = ControlCodec.decode(wire);
        assertNull(d.malformed(), "a valid " + m + " decoded as malformed");
        assertEquals(m, d.message());
    }
}
