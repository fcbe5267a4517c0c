// Where the NAT writes IP packets for the board: straight into the bundle
// that is being assembled for the link, so a packet is built in place once.
package dev.qbkit.qbnet.nat;

import java.nio.ByteBuffer;

public interface PacketOutput {
    /**
     * Reserves room for one IP packet of at most {@code maxLength} bytes.
     *
     * @return the absolute index in {@link #buffer()} to write the packet at
     */
    int begin(int maxLength);

    /** The buffer that {@link #begin} reserved room in. */
    ByteBuffer buffer();

    /** Ends the packet begun last, {@code length} bytes long. */
    void commit(int length);

    /**
     * Whether the link is backed up. Flows stop sending new data while it is,
     * and are told through {@link LinkWaiters} when it drains; acks, resets
     * and retransmissions still go out.
     */
    boolean congested();
}
