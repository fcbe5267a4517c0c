// ICMP and ICMPv6 from the board: echo to the gateway or the DNS address is
// answered here (like a router would); echo elsewhere is sent from the host
// through the OS's echo API and the reply relayed; when the OS allows no
// echo, the board learns at once ("administratively prohibited"). Router
// solicitations and other link chatter of a TUN are ignored.
package dev.qbkit.qbnet.nat;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.Arrays;

import dev.qbkit.qbnet.packet.Checksum;
import dev.qbkit.qbnet.packet.IpPacket;
import dev.qbkit.qbnet.packet.IpProtocol;

public final class IcmpTable implements EchoSender.Replies {
    private static final int MAX_ECHO_PAYLOAD = 65000;

    private final NatContext ctx;
    private final Policy policy;
    private EchoSender sender = EchoSender.NONE;

    public IcmpTable(NatContext ctx, Policy policy) {
        this.ctx = ctx;
        this.policy = policy;
    }

    public void setSender(EchoSender sender) {
        this.sender = sender;
    }

    public void onPacket(IpPacket ip) {
        ByteBuffer buf = ip.buffer();
        int i = ip.payloadOffset();
        int length = ip.payloadLength();
        boolean v6 = ip.isIpv6();
        if (length < 8 || (v6 != (ip.protocol() == IpProtocol.ICMPV6))) {
            ctx.stats().inc(Counter.DROP_ICMP_MALFORMED);
            return;
        }
        long sum = v6 ? Checksum.pseudoHeader(buf, ip.offset(), true, IpProtocol.ICMPV6, length) : 0;
        if (!Checksum.verifies(Checksum.add(buf, i, length, sum))) {
            ctx.stats().inc(Counter.DROP_ICMP_MALFORMED);
            return;
        }
        int type = Byte.toUnsignedInt(buf.get(i));
        if (type != (v6 ? IcmpWriter.ECHO_REQUEST_V6 : IcmpWriter.ECHO_REQUEST_V4)) {
            ctx.stats().inc(Counter.ICMP_IGNORED);
            return;
        }
        int identifier = Short.toUnsignedInt(buf.getShort(i + 4));
        int sequence = Short.toUnsignedInt(buf.getShort(i + 6));
        byte[] board = ip.source();
        byte[] destination = ip.destination();
        ctx.stats().inc(Counter.ICMP_ECHO_REQUESTS);
        if (policy.isGateway(destination) || policy.isDnsAddress(destination)) {
            if (congested())
                return;
            IcmpWriter.echoReply(ctx, destination, board, identifier, sequence, buf, i + 8, length - 8);
            ctx.stats().inc(Counter.ICMP_ECHO_REPLIES);
            return;
        }
        if (!policy.allowsPing(destination) || length - 8 > MAX_ECHO_PAYLOAD) {
            ctx.stats().inc(Counter.DROP_POLICY);
            prohibited(ip, board, destination);
            return;
        }
        if (!sender.available(v6)) {
            prohibited(ip, board, destination);
            return;
        }
        byte[] payload = new byte[length - 8];
        buf.get(i + 8, payload);
        sender.send(board, address(destination), identifier, sequence, payload);
    }

    private void prohibited(IpPacket ip, byte[] board, byte[] destination) {
        byte[] quoted = new byte[Math.min(ip.length(), ip.payloadOffset() - ip.offset() + 8)];
        ip.buffer().get(ip.offset(), quoted);
        IcmpWriter.unreachable(ctx, destination, board,
                ip.isIpv6() ? IcmpWriter.PROHIBITED_V6 : IcmpWriter.PROHIBITED_V4, quoted);
    }

    @Override
    public void onEchoReply(byte[] board, InetAddress from, int identifier, int sequence, byte[] payload) {
        byte[] source = policy.boardVisibleSource(from);
        if (source.length != board.length || congested())
            return;
        IcmpWriter.echoReply(ctx, source, board, identifier, sequence, ByteBuffer.wrap(payload), 0, payload.length);
        ctx.stats().inc(Counter.ICMP_ECHO_REPLIES);
    }

    public void close() {
        sender.close();
    }

    /**
     * Echo replies are not queued behind a congested link: dropped and
     * counted, as a router drops ICMP under load (issue 14). A ping is a
     * probe; one answered seconds late measures the queue, not the path.
     */
    private boolean congested() {
        if (!ctx.output().congested())
            return false;
        ctx.stats().inc(Counter.DROP_ICMP_CONGESTED);
        return true;
    }

    private static InetAddress address(byte[] raw) {
        try {
            return InetAddress.getByAddress(raw);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(Arrays.toString(raw), e);
        }
    }
}
