// The Windows ICMP reply parsing against byte layouts built here from the
// structs of the Windows SDK's ipexport.h, with C's layout rules (pshpack1
// where the header says so), on every OS: no Windows needed.
package dev.qbkit.qbnet.platform;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

class WindowsEchoReplyTest {
    /** A C struct of {@code fields} laid out as a compiler does: each field at its alignment, the size rounded up. */
    static StructLayout cStruct(MemoryLayout... fields) {
        List<MemoryLayout> members = new ArrayList<>();
        long offset = 0;
        long alignment = 1;
        for (MemoryLayout f : fields) {
            long pad = (f.byteAlignment() - offset % f.byteAlignment()) % f.byteAlignment();
            if (pad > 0)
                members.add(MemoryLayout.paddingLayout(pad));
            members.add(f);
            offset += pad + f.byteSize();
            alignment = Math.max(alignment, f.byteAlignment());
        }
        long tail = (alignment - offset % alignment) % alignment;
        if (tail > 0)
            members.add(MemoryLayout.paddingLayout(tail));
        return MemoryLayout.structLayout(members.toArray(MemoryLayout[]::new));
    }

    /** #include <pshpack1.h>: every field byte-aligned, no padding. */
    static StructLayout packed(MemoryLayout... fields) {
        MemoryLayout[] unaligned = new MemoryLayout[fields.length];
        for (int i = 0; i < fields.length; i++)
            unaligned[i] = fields[i] instanceof java.lang.foreign.SequenceLayout seq
                    ? MemoryLayout.sequenceLayout(seq.elementCount(), seq.elementLayout().withByteAlignment(1))
                            .withName(seq.name().orElseThrow())
                    : fields[i].withByteAlignment(1);
        return MemoryLayout.structLayout(unaligned).withByteAlignment(1);
    }

    // typedef struct _IPV6_ADDRESS_EX { USHORT sin6_port; ULONG sin6_flowinfo; USHORT sin6_addr[8];
    //     ULONG sin6_scope_id; } IPV6_ADDRESS_EX;  -- between #include <pshpack1.h> and <poppack.h>
    static final StructLayout IPV6_ADDRESS_EX = packed(JAVA_SHORT.withName("sin6_port"),
            JAVA_INT.withName("sin6_flowinfo"), MemoryLayout.sequenceLayout(8, JAVA_SHORT).withName("sin6_addr"),
            JAVA_INT.withName("sin6_scope_id"));

    // typedef struct icmpv6_echo_reply_lh { IPV6_ADDRESS_EX Address; ULONG Status;
    //     unsigned int RoundTripTime; } ICMPV6_ECHO_REPLY_LH;  -- reply data follows it in memory
    static final StructLayout ICMPV6_ECHO_REPLY = cStruct(IPV6_ADDRESS_EX.withName("Address"),
            JAVA_INT.withName("Status"), JAVA_INT.withName("RoundTripTime"));

    // struct ip_option_information { UCHAR Ttl; UCHAR Tos; UCHAR Flags; UCHAR OptionsSize; PUCHAR OptionsData; };
    static final StructLayout IP_OPTION_INFORMATION = cStruct(JAVA_BYTE.withName("Ttl"), JAVA_BYTE.withName("Tos"),
            JAVA_BYTE.withName("Flags"), JAVA_BYTE.withName("OptionsSize"), ADDRESS.withName("OptionsData"));

    // typedef struct icmp_echo_reply { IPAddr Address; ULONG Status; ULONG RoundTripTime; USHORT DataSize;
    //     USHORT Reserved; PVOID Data; struct ip_option_information Options; } ICMP_ECHO_REPLY;
    static final StructLayout ICMP_ECHO_REPLY = cStruct(JAVA_INT.withName("Address"), JAVA_INT.withName("Status"),
            JAVA_INT.withName("RoundTripTime"), JAVA_SHORT.withName("DataSize"), JAVA_SHORT.withName("Reserved"),
            ADDRESS.withName("Data"), IP_OPTION_INFORMATION.withName("Options"));

    static long at(StructLayout s, String field) {
        return s.byteOffset(groupElement(field));
    }

    static final byte[] PAYLOAD = "abcdefghijklmnopqrstuvwabcdefghi".getBytes();

    /** A reply to ping fd51:6274::2 as Icmp6SendEcho2 writes it, with every field set. */
    static MemorySegment v6Reply(Arena a, int status) {
        MemorySegment reply = a.allocate(ICMPV6_ECHO_REPLY.byteSize() + PAYLOAD.length + 8, 8);
        MemorySegment address = reply.asSlice(at(ICMPV6_ECHO_REPLY, "Address"), IPV6_ADDRESS_EX.byteSize());
        address.set(JAVA_SHORT.withByteAlignment(1), at(IPV6_ADDRESS_EX, "sin6_port"), (short) 0);
        address.set(JAVA_INT.withByteAlignment(1), at(IPV6_ADDRESS_EX, "sin6_flowinfo"), 0x12345);
        byte[] addr = { (byte) 0xfd, 0x51, 0x62, 0x74, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };
        MemorySegment.copy(addr, 0, address, JAVA_BYTE, at(IPV6_ADDRESS_EX, "sin6_addr"), 16);
        address.set(JAVA_INT.withByteAlignment(1), at(IPV6_ADDRESS_EX, "sin6_scope_id"), 0x0badf00d);
        reply.set(JAVA_INT, at(ICMPV6_ECHO_REPLY, "Status"), status);
        reply.set(JAVA_INT, at(ICMPV6_ECHO_REPLY, "RoundTripTime"), 3);
        MemorySegment.copy(PAYLOAD, 0, reply, JAVA_BYTE, ICMPV6_ECHO_REPLY.byteSize(), PAYLOAD.length);
        return reply;
    }

    @Test
    void theLayoutsAreTheHeaders() {
        assertEquals(26, IPV6_ADDRESS_EX.byteSize(), "IPV6_ADDRESS_EX is packed");
        assertEquals(28, at(ICMPV6_ECHO_REPLY, "Status"), "Status is aligned after the packed address");
        assertEquals(36, ICMPV6_ECHO_REPLY.byteSize());
        assertEquals(WindowsEchoReply.V6_STATUS, at(ICMPV6_ECHO_REPLY, "Status"));
        assertEquals(WindowsEchoReply.V6_DATA, ICMPV6_ECHO_REPLY.byteSize(), "the data follows the struct");
        assertEquals(WindowsEchoReply.V4_STATUS, at(ICMP_ECHO_REPLY, "Status"));
        assertEquals(WindowsEchoReply.V4_DATA_SIZE, at(ICMP_ECHO_REPLY, "DataSize"));
        assertEquals(WindowsEchoReply.V4_DATA, at(ICMP_ECHO_REPLY, "Data"));
    }

    @Test
    void anIpv6ReplyGivesItsPayload() {
        try (Arena a = Arena.ofConfined()) {
            assertArrayEquals(PAYLOAD, WindowsEchoReply.v6Payload(v6Reply(a, WindowsEchoReply.IP_SUCCESS), PAYLOAD.length));
        }
    }

    @Test
    void anIpv6ReplyThatFailedGivesNothing() {
        try (Arena a = Arena.ofConfined()) {
            int destinationUnreachable = 11003; // IP_DEST_HOST_UNREACHABLE
            assertNull(WindowsEchoReply.v6Payload(v6Reply(a, destinationUnreachable), PAYLOAD.length));
            assertNull(WindowsEchoReply.v6Payload(a.allocate(20, 8), PAYLOAD.length), "a buffer shorter than the struct");
        }
    }

    /** A reply to ping 198.51.100.2 as IcmpSendEcho writes it: the data after the struct, pointed at by Data. */
    static MemorySegment v4Reply(Arena a, int status, long dataOffset, int dataSize) {
        MemorySegment reply = a.allocate(ICMP_ECHO_REPLY.byteSize() + PAYLOAD.length + 8, 8);
        reply.set(JAVA_INT, at(ICMP_ECHO_REPLY, "Address"), 0x026433c6);
        reply.set(JAVA_INT, at(ICMP_ECHO_REPLY, "Status"), status);
        reply.set(JAVA_INT, at(ICMP_ECHO_REPLY, "RoundTripTime"), 1);
        reply.set(JAVA_SHORT, at(ICMP_ECHO_REPLY, "DataSize"), (short) dataSize);
        reply.set(ADDRESS, at(ICMP_ECHO_REPLY, "Data"), MemorySegment.ofAddress(reply.address() + dataOffset));
        reply.set(JAVA_BYTE, at(ICMP_ECHO_REPLY, "Options") + at(IP_OPTION_INFORMATION, "Ttl"), (byte) 64);
        MemorySegment.copy(PAYLOAD, 0, reply, JAVA_BYTE, ICMP_ECHO_REPLY.byteSize(), PAYLOAD.length);
        return reply;
    }

    @Test
    void anIpv4ReplyGivesThePayloadItsDataPointerShows() {
        try (Arena a = Arena.ofConfined()) {
            assertArrayEquals(PAYLOAD, WindowsEchoReply.v4Payload(
                    v4Reply(a, WindowsEchoReply.IP_SUCCESS, ICMP_ECHO_REPLY.byteSize(), PAYLOAD.length)));
        }
    }

    @Test
    void anIpv4ReplyIsOnlyReadInsideItsBuffer() {
        try (Arena a = Arena.ofConfined()) {
            long end = ICMP_ECHO_REPLY.byteSize() + PAYLOAD.length + 8;
            assertNull(WindowsEchoReply.v4Payload(v4Reply(a, 11010, ICMP_ECHO_REPLY.byteSize(), PAYLOAD.length)),
                    "IP_REQ_TIMED_OUT");
            assertNull(WindowsEchoReply.v4Payload(v4Reply(a, 0, end - 4, PAYLOAD.length)), "data past the end");
            assertNull(WindowsEchoReply.v4Payload(v4Reply(a, 0, -64, PAYLOAD.length)), "data before the buffer");
            assertNull(WindowsEchoReply.v4Payload(v4Reply(a, 0, 0, PAYLOAD.length)), "data over the struct");
            assertArrayEquals(new byte[0], WindowsEchoReply.v4Payload(v4Reply(a, 0, end, 0)), "an empty echo");
        }
    }
}
