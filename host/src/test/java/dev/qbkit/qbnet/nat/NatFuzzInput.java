// The byte format the NAT fuzz tests read (NatFuzzTest): a list of actions
// for NatFuzzHarness, each an op byte and its fields (FuzzInput), and a
// writer of the same format for the seed scenarios. Board packets are built
// well formed from their fields, then damaged or replaced by noise by ops of their own.
package dev.qbkit.qbnet.nat;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import dev.qbkit.qbnet.nat.NatFuzzHarness.Action;
import dev.qbkit.qbnet.packet.TcpHeader;
import dev.qbkit.qbnet.robust.FuzzInput;
import dev.qbkit.qbnet.robust.Packets;

final class NatFuzzInput {
    static final int[] BOARD_PORTS = { 40000, 40001, 40002, 53000 };
    static final int[] REMOTE_PORTS = { 80, 443, 53, 7 };
    static final int[] MTUS = { 1280, 1500, 9000, 65520 };
    static final Integer[] SEGMENT_FLAGS = { TcpHeader.ACK, TcpHeader.ACK | TcpHeader.PSH, TcpHeader.ACK | TcpHeader.FIN,
            TcpHeader.RST, TcpHeader.RST | TcpHeader.ACK, TcpHeader.SYN | TcpHeader.ACK, TcpHeader.FIN, 0, 0xff };
    static final Integer[] UDP_PORTS = { 53, 7, 9, 123 };
    static final Integer[] DNS_TYPES = { 1, 28, 16 };
    static final Integer[] ICMP_TYPES = { 8, 128, 0, 3, 133, 143 };
    static final Long[] ADVANCES = { 1_000_000L, 200_000_000L, 1_000_000_000L, 5_000_000_000L, 61_000_000_000L,
            600_000_000_000L };
    static final Integer[] FORWARD_PORTS = { 22, 80, 40000 };

    /** What an action is; the op byte is its index in the list of the test's ops. */
    enum Op {
        SYN, SEGMENT, UDP, DNS, ICMP, DAMAGED, NOISE, REPLY, CONNECT, REMOTE_SENDS, REMOTE_CLOSES, WRITE_ROOM,
        BREAK_SOCKET, ADVANCE, CONGEST, DNS_ANSWER, ECHO_REPLY, FORWARD
    }

    /** Everything a board and the host can do. */
    static final Op[] ALL = Op.values();
    /** A conversation whose data the harness checks byte by byte: TCP between good peers. */
    static final Op[] CONVERSATION = { Op.SYN, Op.SEGMENT, Op.REPLY, Op.CONNECT, Op.REMOTE_SENDS, Op.REMOTE_CLOSES,
            Op.WRITE_ROOM, Op.ADVANCE, Op.CONGEST };
    /** The packet kinds a DAMAGED op starts from. */
    static final Op[] PACKETS = { Op.SYN, Op.SEGMENT, Op.UDP, Op.DNS, Op.ICMP };

    private NatFuzzInput() {
    }

    /** Actions until the input ends or {@code max} are read. */
    static List<Action> actions(FuzzInput in, Op[] ops, int max) {
        List<Action> actions = new ArrayList<>();
        while (in.hasMore() && actions.size() < max)
            actions.add(action(in, in.pick(ops)));
        return actions;
    }

    private static Action action(FuzzInput in, Op op) {
        return switch (op) {
            case SYN, SEGMENT, UDP, DNS, ICMP -> packet(in, op);
            case DAMAGED -> {
                NatFuzzHarness.Packet good = packet(in, in.pick(PACKETS));
                yield new NatFuzzHarness.Packet(damage(in, good.bytes()), "damaged " + good.what());
            }
            case NOISE -> new NatFuzzHarness.Packet(in.bytes(in.between(0, 100)), "noise");
            case REPLY -> new NatFuzzHarness.Reply(pick(in), in.between(0, 9), in.between(1, 4000));
            case CONNECT -> new NatFuzzHarness.Connect(pick(in), in.between(0, 3));
            case REMOTE_SENDS -> new NatFuzzHarness.RemoteSends(pick(in), in.between(1, 200_000));
            case REMOTE_CLOSES -> new NatFuzzHarness.RemoteCloses(pick(in));
            case WRITE_ROOM -> new NatFuzzHarness.WriteRoom(pick(in), in.between(0, 100_000));
            case BREAK_SOCKET -> new NatFuzzHarness.BreakSocket(pick(in));
            case ADVANCE -> new NatFuzzHarness.Advance(in.pick(ADVANCES));
            case CONGEST -> new NatFuzzHarness.Congest(in.bool());
            case DNS_ANSWER -> new NatFuzzHarness.DnsAnswer(in.bool());
            case ECHO_REPLY -> new NatFuzzHarness.EchoReply(pick(in));
            case FORWARD -> new NatFuzzHarness.Forward(in.pick(FORWARD_PORTS), in.bool());
        };
    }

    /** Which socket or segment an action is about: 0 the latest, up to 40 back. */
    private static int pick(FuzzInput in) {
        return in.between(0, 40);
    }

    /** Where a board packet goes: 0 the internet, 1 the gateway (host loopback), 2 the virtual DNS. */
    static byte[][] addresses(boolean v6, int where) {
        byte[] board = v6 ? NatFuzzHarness.BOARD6 : NatFuzzHarness.BOARD4;
        byte[] to = switch (where) {
            case 0 -> v6 ? NatFuzzHarness.REMOTE6 : NatFuzzHarness.REMOTE4;
            case 1 -> v6 ? NatFuzzHarness.GATEWAY6 : NatFuzzHarness.GATEWAY4;
            default -> v6 ? NatFuzzHarness.DNS6 : NatFuzzHarness.DNS4;
        };
        return new byte[][] { board, to };
    }

    private static NatFuzzHarness.Packet packet(FuzzInput in, Op kind) {
        boolean v6 = in.bool();
        return switch (kind) {
            case SYN -> {
                byte[][] a = addresses(v6, in.between(0, 2));
                int bp = BOARD_PORTS[in.between(0, 3)];
                int rp = REMOTE_PORTS[in.between(0, 3)];
                byte[] options = Packets.synOptions(in.between(-1, 9000), in.between(-1, 15), in.bool());
                yield new NatFuzzHarness.Packet(Packets.tcp(a[0], a[1], bp, rp, NatFuzzHarness.irsFor(bp), 0, TcpHeader.SYN,
                        64240, options, new byte[0]), "syn");
            }
            case SEGMENT -> {
                // A segment of an existing or imagined connection: seq around the board's ISN, ack around ours.
                byte[][] a = addresses(v6, in.between(0, 2));
                int bp = BOARD_PORTS[in.between(0, 3)];
                int rp = REMOTE_PORTS[in.between(0, 3)];
                int seqOffset = in.between(-3, 300_000);
                int ackOffset = in.between(-3, 300_000);
                int flags = in.pick(SEGMENT_FLAGS);
                int length = in.between(0, 3000);
                int seq = NatFuzzHarness.irsFor(bp) + 1 + seqOffset;
                byte[] payload = new byte[length];
                for (int i = 0; i < length; i++)
                    payload[i] = NatFuzzHarness.boardByte(seq + i);
                yield new NatFuzzHarness.Packet(Packets.tcp(a[0], a[1], bp, rp, seq, NatFuzzHarness.ISS + 1 + ackOffset,
                        flags, (seqOffset * 31 + 502) & 0xffff, new byte[0], payload), "segment");
            }
            case UDP -> {
                byte[][] a = addresses(v6, in.between(0, 2));
                int bp = BOARD_PORTS[in.between(0, 3)];
                yield new NatFuzzHarness.Packet(Packets.udp(a[0], a[1], bp, in.pick(UDP_PORTS),
                        new byte[in.between(0, 1600)]), "udp");
            }
            case DNS -> {
                byte[][] a = addresses(v6, 2);
                byte[] query = dnsQuery(in.u16(), in.pick(DNS_TYPES), in.bool());
                yield new NatFuzzHarness.Packet(Packets.udp(a[0], a[1], 53000, 53, query), "dns");
            }
            default -> {
                byte[][] a = addresses(v6, in.between(0, 2));
                int type = in.pick(ICMP_TYPES);
                int id = in.u16();
                yield new NatFuzzHarness.Packet(Packets.icmp(a[0], a[1], type, id, id ^ 0x5555,
                        new byte[in.between(0, 1400)]), "icmp");
            }
        };
    }

    /** 1..4 edits: a bit flipped, a byte replaced, the packet cut short, a length-like byte set to 0xff or 0. */
    private static byte[] damage(FuzzInput in, byte[] packet) {
        byte[] b = packet.clone();
        for (int edits = in.between(1, 4); edits > 0 && b.length > 0; edits--) {
            int op = in.between(0, 3);
            int at = in.u16() % b.length;
            int value = in.u8();
            switch (op) {
                case 0 -> b[at] ^= (byte) (1 << (value & 7));
                case 1 -> b[at] = (byte) value;
                case 2 -> b = Arrays.copyOf(b, at);
                default -> b[at % Math.min(b.length, 60)] = (byte) ((value & 1) != 0 ? 0xff : 0);
            }
        }
        return b;
    }

    static byte[] dnsQuery(int id, int type, boolean edns) {
        ByteBuffer q = ByteBuffer.allocate(64);
        q.putShort((short) id).putShort((short) 0x0100).putShort((short) 1).putShort((short) 0).putShort((short) 0)
                .putShort((short) (edns ? 1 : 0));
        for (String label : new String[] { "www", "qbnet", "test" })
            q.put((byte) label.length()).put(label.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        q.put((byte) 0).putShort((short) type).putShort((short) 1);
        if (edns)
            q.put((byte) 0).putShort((short) 41).putShort((short) 4096).putInt(0).putShort((short) 0);
        byte[] out = new byte[q.position()];
        q.get(0, out);
        return out;
    }

    // ---- writing the format (seed scenarios) ------------------------------------

    /** Writes actions for one test's list of ops, field by field as {@link #actions} reads them. */
    static final class Writer {
        final FuzzInput.Writer out = new FuzzInput.Writer();
        private final Op[] ops;

        Writer(Op[] ops) {
            this.ops = ops;
        }

        private Writer op(Op op) {
            int index = Arrays.asList(ops).indexOf(op);
            if (index < 0)
                throw new IllegalArgumentException(op + " is not an op of this test");
            out.pick(ops.length, index);
            return this;
        }

        private static int index(Object[] options, Object value) {
            int i = Arrays.asList(options).indexOf(value);
            if (i < 0)
                throw new IllegalArgumentException(value + " is not one of " + Arrays.toString(options));
            return i;
        }

        private static int index(int[] options, int value) {
            for (int i = 0; i < options.length; i++)
                if (options[i] == value)
                    return i;
            throw new IllegalArgumentException(value + " is not one of " + Arrays.toString(options));
        }

        Writer syn(boolean v6, int where, int boardPort, int remotePort, int mss, int scale, boolean sack) {
            op(Op.SYN);
            out.bool(v6).between(0, 2, where).between(0, 3, index(BOARD_PORTS, boardPort))
                    .between(0, 3, index(REMOTE_PORTS, remotePort)).between(-1, 9000, mss).between(-1, 15, scale).bool(sack);
            return this;
        }

        Writer segment(boolean v6, int where, int boardPort, int remotePort, int seqOffset, int ackOffset, int flags,
                int length) {
            op(Op.SEGMENT);
            out.bool(v6).between(0, 2, where).between(0, 3, index(BOARD_PORTS, boardPort))
                    .between(0, 3, index(REMOTE_PORTS, remotePort)).between(-3, 300_000, seqOffset)
                    .between(-3, 300_000, ackOffset).pick(SEGMENT_FLAGS.length, index(SEGMENT_FLAGS, flags))
                    .between(0, 3000, length);
            return this;
        }

        Writer udp(boolean v6, int where, int boardPort, int port, int length) {
            op(Op.UDP);
            out.bool(v6).between(0, 2, where).between(0, 3, index(BOARD_PORTS, boardPort))
                    .pick(UDP_PORTS.length, index(UDP_PORTS, port)).between(0, 1600, length);
            return this;
        }

        Writer dns(boolean v6, int id, int type, boolean edns) {
            op(Op.DNS);
            out.bool(v6).u16(id).pick(DNS_TYPES.length, index(DNS_TYPES, type)).bool(edns);
            return this;
        }

        Writer icmp(boolean v6, int where, int type, int id, int length) {
            op(Op.ICMP);
            out.bool(v6).between(0, 2, where).pick(ICMP_TYPES.length, index(ICMP_TYPES, type)).u16(id)
                    .between(0, 1400, length);
            return this;
        }

        /** A damaged UDP datagram to the gateway: {@code edits} of (op 0..3, position, value). */
        Writer damagedUdp(int length, int[]... edits) {
            op(Op.DAMAGED);
            out.pick(PACKETS.length, index(PACKETS, Op.UDP)).bool(false).between(0, 2, 1).between(0, 3, 0)
                    .pick(UDP_PORTS.length, 2).between(0, 1600, length).between(1, 4, edits.length);
            for (int[] e : edits)
                out.between(0, 3, e[0]).u16(e[1]).u8(e[2]);
            return this;
        }

        Writer noise(byte[] bytes) {
            op(Op.NOISE);
            out.between(0, 100, bytes.length).bytes(bytes);
            return this;
        }

        Writer reply(int pick, int kind, int length) {
            op(Op.REPLY);
            out.between(0, 40, pick).between(0, 9, kind).between(1, 4000, length);
            return this;
        }

        Writer connect(int pick, int outcome) {
            op(Op.CONNECT);
            out.between(0, 40, pick).between(0, 3, outcome);
            return this;
        }

        Writer remoteSends(int pick, int length) {
            op(Op.REMOTE_SENDS);
            out.between(0, 40, pick).between(1, 200_000, length);
            return this;
        }

        Writer remoteCloses(int pick) {
            op(Op.REMOTE_CLOSES);
            out.between(0, 40, pick);
            return this;
        }

        Writer writeRoom(int pick, int room) {
            op(Op.WRITE_ROOM);
            out.between(0, 40, pick).between(0, 100_000, room);
            return this;
        }

        Writer breakSocket(int pick) {
            op(Op.BREAK_SOCKET);
            out.between(0, 40, pick);
            return this;
        }

        Writer advance(long nanos) {
            op(Op.ADVANCE);
            out.pick(ADVANCES.length, index(ADVANCES, nanos));
            return this;
        }

        Writer congest(boolean on) {
            op(Op.CONGEST);
            out.bool(on);
            return this;
        }

        Writer dnsAnswer(boolean ok) {
            op(Op.DNS_ANSWER);
            out.bool(ok);
            return this;
        }

        Writer echoReply(int pick) {
            op(Op.ECHO_REPLY);
            out.between(0, 40, pick);
            return this;
        }

        Writer forward(int boardPort, boolean v6) {
            op(Op.FORWARD);
            out.pick(FORWARD_PORTS.length, index(FORWARD_PORTS, boardPort)).bool(v6);
            return this;
        }

        byte[] toByteArray() {
            return out.toByteArray();
        }
    }
}
