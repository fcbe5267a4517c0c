// Reads what the Windows ICMP helper API writes into a reply buffer, at the
// offsets of the SDK's ipexport.h: ICMP_ECHO_REPLY (IcmpSendEcho) and
// ICMPV6_ECHO_REPLY (Icmp6SendEcho2). Pure parsing, tested on every OS.
package dev.qbkit.qbnet.platform;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.MemorySegment;

final class WindowsEchoReply {
    /** IP_STATUS of a reply that came back. */
    static final int IP_SUCCESS = 0;

    /**
     * ICMP_ECHO_REPLY: IPAddr Address, ULONG Status (4), ULONG RoundTripTime,
     * USHORT DataSize (12), USHORT Reserved, PVOID Data (16, a pointer into the
     * same buffer), IP_OPTION_INFORMATION Options. The same offsets on 32- and
     * 64-bit Windows (the pointer comes after 16 bytes of 4- and 2-byte fields).
     */
    static final long V4_STATUS = 4;
    static final long V4_DATA_SIZE = 12;
    static final long V4_DATA = 16;

    /**
     * ICMPV6_ECHO_REPLY: IPV6_ADDRESS_EX Address is declared under pshpack1
     * (USHORT port, ULONG flowinfo, USHORT addr[8], ULONG scope id: 26 bytes,
     * no padding), but the reply struct itself has default packing, so ULONG
     * Status is aligned to 4: offset 28, not 26. RoundTripTime at 32; the
     * struct is 36 bytes and the echoed data follows it.
     */
    static final long V6_STATUS = 28;
    static final long V6_DATA = 36;

    private WindowsEchoReply() {
    }

    /**
     * The echoed payload of a successful IcmpSendEcho reply in {@code reply},
     * or null: another status, or a Data pointer and size that do not lie
     * inside the buffer (never trusted to point elsewhere).
     */
    static byte[] v4Payload(MemorySegment reply) {
        if (reply.byteSize() < V4_DATA + ADDRESS.byteSize() || reply.get(JAVA_INT, V4_STATUS) != IP_SUCCESS)
            return null;
        int size = Short.toUnsignedInt(reply.get(JAVA_SHORT, V4_DATA_SIZE));
        long at = reply.get(ADDRESS, V4_DATA).address() - reply.address();
        if (at < V4_DATA + ADDRESS.byteSize() || at > reply.byteSize() - size)
            return null;
        return reply.asSlice(at, size).toArray(JAVA_BYTE);
    }

    /**
     * The echoed payload of a successful Icmp6SendEcho2 reply, or null. The
     * struct has no size field: the data is as long as the request's.
     */
    static byte[] v6Payload(MemorySegment reply, int requestSize) {
        if (reply.byteSize() < V6_DATA + requestSize || reply.get(JAVA_INT, V6_STATUS) != IP_SUCCESS)
            return null;
        return reply.asSlice(V6_DATA, requestSize).toArray(JAVA_BYTE);
    }
}
