// ICMP and ICMPv6 through the NAT: echo answered at the gateway, relayed
// through the host's echo sender, refused when the OS allows none; and the
// exact unreachable errors TCP connect failures produce.
package dev.qbkit.qbnet.nat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.qbkit.qbnet.packet.Checksum;
import dev.qbkit.qbnet.packet.IpPacket;
import dev.qbkit.qbnet.packet.IpProtocol;
import dev.qbkit.qbnet.packet.IpWriter;

class IcmpTest {
    static final byte[] GATEWAY = { 10, 113, 98, 1 };
    static final byte[] BOARD6 = address("fd71:6200::2");
    static final byte[] REMOTE6 = address("fd51:6274::2");

    final ScriptedNat nat = new ScriptedNat();

    static byte[] address(String literal) {
        try {
            return InetAddress.getByName(literal).getAddress();
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    /** An echo request packet from {@code src} to {@code dst}. */
    static byte[] echoRequest(byte[] src, byte[] dst, int id, int seq, byte[] payload) {
        boolean v6 = src.length == 16;
        int icmpLength = 8 + payload.length;
        ByteBuffer b = ByteBuffer.allocate(IpWriter.headerLength(v6) + icmpLength);
        int i = IpWriter.writeHeader(b, 0, src, dst, v6 ? IpProtocol.ICMPV6 : IpProtocol.ICMP, icmpLength, 7);
        b.put(i, (byte) (v6 ? 128 : 8)).putShort(i + 4, (short) id).putShort(i + 6, (short) seq).put(i + 8, payload);
        if (v6)
            IpWriter.fillTransportChecksum(b, 0, true, IpProtocol.ICMPV6, icmpLength, 2);
        else
            b.putShort(i + 2, (short) Checksum.finish(Checksum.add(b, i, icmpLength, 0)));
        return b.array();
    }

    record Icmp(byte[] source, byte[] destination, int type, int code, int id, int seq, byte[] rest) {
    }

    /** Parses an ICMP packet the NAT wrote, checking both checksums. */
    static Icmp parse(byte[] packet) {
        ByteBuffer b = ByteBuffer.wrap(packet);
        IpPacket ip = new IpPacket();
        assertTrue(ip.parse(b, 0, packet.length), "well-formed IP");
        assertEquals(packet.length, ip.length());
        int i = ip.payloadOffset();
        long sum = ip.isIpv6() ? Checksum.pseudoHeader(b, 0, true, IpProtocol.ICMPV6, ip.payloadLength()) : 0;
        if (!ip.isIpv6())
            assertEquals(0, Checksum.finish(Checksum.add(b, 0, 20, 0)), "IPv4 header checksum");
        assertEquals(0, Checksum.finish(Checksum.add(b, i, ip.payloadLength(), sum)), "ICMP checksum");
        return new Icmp(ip.source(), ip.destination(), Byte.toUnsignedInt(b.get(i)), Byte.toUnsignedInt(b.get(i + 1)),
                Short.toUnsignedInt(b.getShort(i + 4)), Short.toUnsignedInt(b.getShort(i + 6)),
                Arrays.copyOfRange(packet, i + 8, packet.length));
    }

    /** Asserts an ICMPv4 destination unreachable from {@code source} quoting the board's SYN. */
    static void assertUnreachable(byte[] packet, byte[] source, int code, int synSeq) {
        Icmp icmp = parse(packet);
        assertArrayEquals(source, icmp.source());
        assertArrayEquals(ScriptedNat.BOARD, icmp.destination());
        assertEquals(3, icmp.type());
        assertEquals(code, icmp.code());
        ByteBuffer quoted = ByteBuffer.wrap(icmp.rest());
        assertEquals(28, icmp.rest().length, "IP header + 8 bytes");
        assertEquals(IpProtocol.TCP, quoted.get(9));
        assertArrayEquals(ScriptedNat.BOARD, Arrays.copyOfRange(icmp.rest(), 12, 16));
        assertEquals(ScriptedNat.BOARD_PORT, Short.toUnsignedInt(quoted.getShort(20)));
        assertEquals(ScriptedNat.REMOTE_PORT, Short.toUnsignedInt(quoted.getShort(22)));
        assertEquals(synSeq, quoted.getInt(24));
    }

    @Test
    void echoToTheGatewayIsAnsweredHere() {
        byte[] payload = "abcdefgh".getBytes();
        nat.boardIcmp(echoRequest(ScriptedNat.BOARD, GATEWAY, 0x1234, 7, payload));
        Icmp reply = parse(nat.sent.poll());
        assertEquals(new Icmp(GATEWAY, ScriptedNat.BOARD, 0, 0, 0x1234, 7, payload).toString().length() > 0, true);
        assertArrayEquals(GATEWAY, reply.source());
        assertArrayEquals(ScriptedNat.BOARD, reply.destination());
        assertEquals(0, reply.type());
        assertEquals(0x1234, reply.id());
        assertEquals(7, reply.seq());
        assertArrayEquals(payload, reply.rest());
    }

    @Test
    void echoWithoutAnOsEchoApiIsProhibitedAtOnce() {
        nat.boardIcmp(echoRequest(ScriptedNat.BOARD, ScriptedNat.REMOTE, 1, 1, new byte[16]));
        Icmp answer = parse(nat.sent.poll());
        assertEquals(3, answer.type());
        assertEquals(13, answer.code(), "communication administratively prohibited");
        assertArrayEquals(ScriptedNat.REMOTE, answer.source());
    }

    @Test
    void echoIsRelayedThroughTheHostAndTheReplyComesBack() throws Exception {
        List<String> sentByHost = new ArrayList<>();
        nat.icmp.setSender(new EchoSender() {
            @Override
            public boolean available(boolean ipv6) {
                return true;
            }

            @Override
            public void send(byte[] board, InetAddress destination, int identifier, int sequence, byte[] payload) {
                sentByHost.add(destination.getHostAddress() + " " + identifier + " " + sequence + " " + payload.length);
                nat.icmp.onEchoReply(board, destination, identifier, sequence, payload);
            }

            @Override
            public void close() {
            }
        });
        byte[] payload = new byte[56];
        nat.boardIcmp(echoRequest(ScriptedNat.BOARD, ScriptedNat.REMOTE, 99, 3, payload));
        assertEquals(List.of("192.0.2.10 99 3 56"), sentByHost);
        Icmp reply = parse(nat.sent.poll());
        assertArrayEquals(ScriptedNat.REMOTE, reply.source());
        assertEquals(0, reply.type());
        assertEquals(99, reply.id());
        assertEquals(3, reply.seq());
    }

    @Test
    void icmpv6EchoToTheGatewayIsAnswered() {
        NatConfig v6 = NatConfig.defaults().withMtu(1500);
        ScriptedNat n = new ScriptedNat(v6);
        byte[] gateway6 = v6.gateway6().getAddress();
        n.boardIcmp(echoRequest(BOARD6, gateway6, 5, 6, "v6".getBytes()));
        Icmp reply = parse(n.sent.poll());
        assertEquals(129, reply.type());
        assertArrayEquals(gateway6, reply.source());
        assertArrayEquals(BOARD6, reply.destination());
        assertEquals(5, reply.id());
    }

    @Test
    void badChecksumIsDroppedAndCounted() {
        byte[] packet = echoRequest(ScriptedNat.BOARD, GATEWAY, 1, 1, new byte[8]);
        packet[22] ^= 0x55;
        nat.boardIcmp(packet);
        assertTrue(nat.nothingSent());
        assertEquals(1, nat.stats.get(Counter.DROP_ICMP_MALFORMED));
    }

    @Test
    void routerSolicitationIsIgnored() {
        ByteBuffer b = ByteBuffer.allocate(48);
        int i = IpWriter.writeHeader(b, 0, BOARD6, address("ff02::2"), IpProtocol.ICMPV6, 8, 0);
        b.put(i, (byte) 133);
        IpWriter.fillTransportChecksum(b, 0, true, IpProtocol.ICMPV6, 8, 2);
        nat.boardIcmp(b.array());
        assertTrue(nat.nothingSent());
        assertEquals(1, nat.stats.get(Counter.ICMP_IGNORED));
    }
}
