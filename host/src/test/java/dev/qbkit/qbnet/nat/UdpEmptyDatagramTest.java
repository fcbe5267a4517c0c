// An empty UDP datagram from the board is a datagram like any other: sent on,
// counted as sent (not as a failed send), and its peer's reply is let back in.
// Found by tests/robustness.sh (hostile board).
package dev.qbkit.qbnet.nat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.net.DatagramPacket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.qbkit.qbnet.loop.EventLoop;
import dev.qbkit.qbnet.packet.IpPacket;
import dev.qbkit.qbnet.robust.Packets;

class UdpEmptyDatagramTest {
    @Test
    void anEmptyDatagramIsSentAndCountedAsSent() throws Exception {
        NatConfig config = NatConfig.defaults().toBuilder().mtu(1500).allowHostLoopback(true)
                .rules(List.of(), List.of(Cidr.parse("0.0.0.0/0"), Cidr.parse("::/0"))).build();
        ScriptedNat nat = new ScriptedNat(config);
        EventLoop loop = new EventLoop("udp-empty");
        try (DatagramChannel peer = DatagramChannel.open(StandardProtocolFamily.INET)) {
            peer.bind(new InetSocketAddress("127.0.0.1", 0));
            int port = ((InetSocketAddress) peer.getLocalAddress()).getPort();
            UdpTable udp = new UdpTable(nat, loop, new Policy(config), new DnsProxy(nat, Runnable::run, DnsUpstreams.of(List.of())));
            byte[] packet = Packets.udp(ScriptedNat.BOARD, new byte[] { 10, 113, 98, 1 }, 5000, port, new byte[0]);
            IpPacket ip = new IpPacket();
            ip.parse(ByteBuffer.wrap(packet), 0, packet.length);
            udp.onPacket(ip);
            assertEquals(0, nat.stats.get(Counter.DROP_UDP_SEND_FAILED), "an empty datagram counted as a failed send");
            assertEquals(1, nat.stats.get(Counter.UDP_DATAGRAMS_TX));
            // A bounded wait: a datagram that never comes fails the test after 5 s instead of hanging it.
            peer.configureBlocking(true);
            peer.socket().setSoTimeout(5000);
            DatagramPacket got = new DatagramPacket(new byte[16], 16);
            try {
                peer.socket().receive(got);
            } catch (SocketTimeoutException e) {
                fail("the empty datagram never reached its peer");
            }
            assertEquals(0, got.getLength());
            udp.closeAll();
        } finally {
            loop.shutdown();
            loop.start();
            loop.join();
        }
    }
}
