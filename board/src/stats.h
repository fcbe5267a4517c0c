/* Counters of what qbnetd moved, dropped and why; logged on SIGUSR1 and at
 * exit. One global instance, updated from the single event loop thread. */
#ifndef QB_STATS_H
#define QB_STATS_H

#include <stdint.h>

#define STATS_COUNTERS(X)                                                       \
	X(link_connects, "link connections established")                       \
	X(link_disconnects, "link connections lost")                          \
	X(link_rx_bundles, "bundles received")                                \
	X(link_rx_bytes, "bytes received in bundles")                         \
	X(link_tx_bundles, "bundles sent")                                    \
	X(link_tx_bytes, "bytes sent in bundles")                             \
	X(link_tx_busy, "bundles not sent: link queue full")                  \
	X(link_tx_down, "bundles not sent: link down")                        \
	X(rx_bad_magic, "bundles dropped: bad-magic")                         \
	X(rx_bad_format, "bundles dropped: bad-format")                       \
	X(rx_bad_length, "bundles dropped: bad-length")                       \
	X(rx_truncated_frame, "bundles dropped: truncated-frame")             \
	X(rx_unknown_channel, "frames skipped: unknown channel")              \
	X(link_test_rx, "frames discarded: link-test channel 65535")          \
	X(link_test_tx, "link-test filler bundles sent (LINK_TEST)")          \
	X(usb_events, "USB ep0 events")                                       \
	X(usb_stalled, "USB control requests stalled")                        \
	X(usb_rx_zlp, "USB zero-length OUT transfers ignored")                \
	X(usb_rx_errors, "USB OUT transfers failed")                          \
	X(usb_rx_cut, "bundles lost: a USB read failed or the link went down mid-bundle") \
	X(usb_tx_errors, "USB IN transfers failed")                           \
	X(usb_tx_resync, "USB zero-length packets ending a cut IN bundle")    \
	X(usb_cancelled, "USB transfers cancelled (link down or reset)")      \
	X(control_rx, "control messages received")                            \
	X(control_malformed, "control messages dropped: malformed")           \
	X(control_unknown_type, "control messages ignored: unknown type")     \
	X(control_tx, "control messages sent")                                \
	X(control_tx_dropped, "control messages not sent: link busy or down") \
	X(keepalive_tx, "KEEPALIVEs sent (not replies)")                      \
	X(peer_timeouts, "host silent for 5 s: link reset")                   \
	X(ip_rx, "IP frames written to the TUN")                              \
	X(ip_rx_unconfigured, "IP frames dropped: session not configured")    \
	X(ip_rx_malformed, "IP frames dropped: malformed")                    \
	X(ip_rx_offload, "IP frames with OFFLOAD written to the TUN")         \
	X(ip_rx_gso, "of which TCP super-segments (GSO)")                     \
	X(ip_rx_offload_malformed, "IP frames with OFFLOAD dropped: malformed or offload not in use") \
	X(tun_write_errors, "IP frames dropped: TUN write failed")            \
	X(tun_rx_packets, "packets read from the TUN and sent")               \
	X(tun_rx_gso, "of which TCP super-segments (TSO)")                    \
	X(tun_rx_truncated, "packets read from the TUN and dropped: larger than the read") \
	X(tun_rx_oversize, "packets read from the TUN and dropped: above the host's bundle limit") \
	X(tun_rx_dropped, "packets read from the TUN and dropped: no session") \
	X(tun_read_errors, "TUN read errors")

struct stats {
#define STATS_FIELD(name, text) uint64_t name;
	STATS_COUNTERS(STATS_FIELD)
#undef STATS_FIELD
};

extern struct stats stats;

void stats_log(void);

#endif
