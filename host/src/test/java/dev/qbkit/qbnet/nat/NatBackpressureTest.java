// DNS answers and ICMP echo replies toward a congested link (issue 14,
// defect 1): a DNS answer is held until the link has room (bounded by the
// queries in flight) and then sent; an echo reply is dropped and counted, as
// a router drops ICMP under load, and goes out again once the link drains.
package dev.qbkit.qbnet.nat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.qbkit.qbnet.packet.IpPacket;
import dev.qbkit.qbnet.robust.Packets;

class NatBackpressureTest {
    static final byte[] BOARD = ScriptedNat.BOARD;
    static final byte[] DNS = { 10, 113, 98, 3 };
    static final byte[] GATEWAY = { 10, 113, 98, 1 };

    static void query(DnsProxy dns, int id) {
        byte[] packet = Packets.udp(BOARD, DNS, 53000 + id, 53, NatFuzzInput.dnsQuery(id, 1, false));
        IpPacket ip = new IpPacket();
        ip.parse(ByteBuffer.wrap(packet), 0, packet.length);
        int u = ip.payloadOffset();
        dns.onQuery(ip.source(), 53000 + id, ip.destination(), ip.buffer(), u + 8, ip.payloadLength() - 8);
    }

    @Test
    void aDnsAnswerWaitsForRoomOnTheLink() throws Exception {
        ScriptedNat nat = new ScriptedNat();
        ArrayDeque<Runnable> loop = new ArrayDeque<>();
        HeldResolver resolver = new HeldResolver();
        DnsProxy dns = new DnsProxy(nat, loop::add,
                new DnsUpstreams(servers -> resolver, List.of(new java.net.InetSocketAddress("127.0.0.1", 53))));
        query(dns, 1);
        query(dns, 2);
        nat.congested = true;
        while (resolver.answerNext(true)) {
            // every query answered
        }
        while (!loop.isEmpty())
            loop.poll().run();
        nat.endRound();
        assertTrue(nat.nothingSent(), "a DNS answer was written into a congested link");
        assertEquals(2, nat.stats.get(Counter.DNS_ANSWERS_HELD));
        assertEquals(2, dns.inFlight(), "held answers still count against the in-flight limit");

        nat.congested = false;
        nat.endRound(); // room again: the waiters run
        assertEquals(2, nat.sent.size(), "the held answers went out once the link had room");
        assertEquals(0, dns.inFlight());
        dns.close();
    }

    @Test
    void anEchoReplyIsDroppedWhileTheLinkIsCongested() {
        ScriptedNat nat = new ScriptedNat();
        nat.congested = true;
        nat.boardIcmp(IcmpTest.echoRequest(BOARD, GATEWAY, 9, 1, new byte[56]));
        assertTrue(nat.nothingSent(), "an echo reply was written into a congested link");
        assertEquals(1, nat.stats.get(Counter.DROP_ICMP_CONGESTED));

        nat.congested = false;
        nat.boardIcmp(IcmpTest.echoRequest(BOARD, GATEWAY, 9, 2, new byte[56]));
        assertEquals(1, nat.sent.size(), "echo answered again once the link drained");
    }
}
