// Finding the qbnet interface: by class triple among other interfaces and
// alternate settings, and walking libusb's parsed config structs, built here
// from raw configuration descriptors the way libusb lays them out.
package dev.qbkit.qbnet.usb;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.qbkit.qbnet.usb.QbnetInterface.AltSetting;
import dev.qbkit.qbnet.usb.QbnetInterface.Endpoint;

class QbnetInterfaceTest {
    /**
     * Configuration descriptors captured from qbnetd 0.1.0's gadget
     * (/sys/bus/usb/devices/1-1/descriptors after the device descriptor) on
     * dummy_hcd: interface 0 ff/71/01, bulk OUT 0x02 and IN 0x81.
     */
    static final String QBNETD_HIGH_SPEED = "09022000010104807d" + "0904000002ff710105"
            + "07050202000200" + "07058102000200";
    static final String QBNETD_SUPER_SPEED = "09022c00010104801f" + "0904000002ff710105"
            + "07050202000400" + "06300f000000" + "07058102000400" + "06300f000000";

    /**
     * A composite device at SuperSpeed (constructed): interface 0 is something else (HID
     * class, interrupt IN), interface 1 is qbnet with companion descriptors
     * after its endpoints, OUT before IN, 1024-byte packets, and an alternate
     * setting 1 without endpoints.
     */
    static final String COMPOSITE_SUPER_SPEED = "09024500020104c032"
            + "090400000103000000" + "07058303080004"
            + "0904010002ff710106" + "07050202000400" + "06300f000000" + "07058202000400" + "06300f000000"
            + "0904010100ff710100";

    @Test
    void findsByClassTripleNotByNumber() {
        AltSetting other = new AltSetting(0, 0, 0xFF, 0x00, 0x00,
                List.of(new Endpoint(0x81, 2, 512), new Endpoint(0x01, 2, 512)));
        AltSetting qbnet = new AltSetting(3, 0, 0xFF, 0x71, 0x01,
                List.of(new Endpoint(0x02, 2, 512), new Endpoint(0x83, 2, 512)));
        assertEquals(new QbnetInterface(3, 0, 0x83, 512, 0x02, 512), QbnetInterface.find(List.of(other, qbnet)));
    }

    @Test
    void needsBulkInAndOut() {
        AltSetting interruptOnly = new AltSetting(0, 0, 0xFF, 0x71, 0x01,
                List.of(new Endpoint(0x81, 3, 64), new Endpoint(0x01, 2, 512)));
        AltSetting noEndpoints = new AltSetting(0, 0, 0xFF, 0x71, 0x01, List.of());
        AltSetting zeroPacket = new AltSetting(0, 0, 0xFF, 0x71, 0x01,
                List.of(new Endpoint(0x81, 2, 0), new Endpoint(0x01, 2, 512)));
        assertNull(QbnetInterface.find(List.of(interruptOnly)));
        assertNull(QbnetInterface.find(List.of(noEndpoints)));
        assertNull(QbnetInterface.find(List.of(zeroPacket)));
        assertNull(QbnetInterface.find(List.of()));
    }

    @Test
    void takesTheFirstAltSettingThatWorks() {
        AltSetting empty = new AltSetting(1, 0, 0xFF, 0x71, 0x01, List.of());
        AltSetting working = new AltSetting(1, 1, 0xFF, 0x71, 0x01,
                List.of(new Endpoint(0x81, 2, 64), new Endpoint(0x01, 2, 64)));
        assertEquals(new QbnetInterface(1, 1, 0x81, 64, 0x01, 64), QbnetInterface.find(List.of(empty, working)));
    }

    @Test
    void packetSizeIgnoresTransactionBits() {
        AltSetting s = new AltSetting(0, 0, 0xFF, 0x71, 0x01,
                List.of(new Endpoint(0x81, 2, 0x1800 | 512), new Endpoint(0x01, 2, 512)));
        assertEquals(512, QbnetInterface.find(List.of(s)).inMaxPacket());
    }

    @Test
    void walksLibusbStructsOfQbnetdAtHighSpeed() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment config = LibusbConfigImage.build(arena, HexFormat.of().parseHex(QBNETD_HIGH_SPEED));
            List<AltSetting> settings = QbnetInterface.walk(config);
            assertEquals(List.of(new AltSetting(0, 0, 0xFF, 0x71, 0x01,
                    List.of(new Endpoint(0x02, 2, 512), new Endpoint(0x81, 2, 512)))), settings);
            assertEquals(new QbnetInterface(0, 0, 0x81, 512, 0x02, 512), QbnetInterface.find(settings));
        }
    }

    @Test
    void walksLibusbStructsOfQbnetdAtSuperSpeed() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment config = LibusbConfigImage.build(arena, HexFormat.of().parseHex(QBNETD_SUPER_SPEED));
            assertEquals(new QbnetInterface(0, 0, 0x81, 1024, 0x02, 1024),
                    QbnetInterface.find(QbnetInterface.walk(config)));
        }
    }

    @Test
    void walksLibusbStructsOfACompositeDevice() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment config = LibusbConfigImage.build(arena, HexFormat.of().parseHex(COMPOSITE_SUPER_SPEED));
            List<AltSetting> settings = QbnetInterface.walk(config);
            assertEquals(3, settings.size());
            assertEquals(new AltSetting(1, 1, 0xFF, 0x71, 0x01, List.of()), settings.get(2));
            assertEquals(new QbnetInterface(1, 0, 0x82, 1024, 0x02, 1024), QbnetInterface.find(settings));
        }
    }

    /**
     * Lays out a configuration descriptor as libusb_get_active_config_descriptor
     * returns it: a libusb_config_descriptor pointing at one libusb_interface
     * per interface number, each at its altsettings, each at its endpoints.
     * Descriptors other than interface and endpoint are skipped (libusb keeps
     * them in "extra", which the walk does not read).
     */
    static final class LibusbConfigImage {
        static MemorySegment build(Arena arena, byte[] raw) {
            Map<Integer, List<int[]>> alts = new LinkedHashMap<>();
            Map<int[], List<int[]>> endpoints = new java.util.IdentityHashMap<>();
            int[] current = null;
            for (int at = 0; at < raw.length;) {
                int length = raw[at] & 0xFF;
                int type = raw[at + 1] & 0xFF;
                if (type == 4) {
                    current = new int[] { raw[at + 2] & 0xFF, raw[at + 3] & 0xFF, raw[at + 4] & 0xFF,
                            raw[at + 5] & 0xFF, raw[at + 6] & 0xFF, raw[at + 7] & 0xFF };
                    alts.computeIfAbsent(current[0], k -> new ArrayList<>()).add(current);
                    endpoints.put(current, new ArrayList<>());
                } else if (type == 5 && current != null) {
                    endpoints.get(current).add(new int[] { raw[at + 2] & 0xFF, raw[at + 3] & 0xFF,
                            (raw[at + 4] & 0xFF) | (raw[at + 5] & 0xFF) << 8 });
                }
                at += length;
            }
            MemorySegment config = arena.allocate(LibUsbStructs.CONFIG_DESCRIPTOR);
            config.set(JAVA_BYTE, LibUsbStructs.CONFIG_NUM_INTERFACES, (byte) alts.size());
            MemorySegment interfaces = arena.allocate(LibUsbStructs.INTERFACE, alts.size());
            config.set(ADDRESS, LibUsbStructs.CONFIG_INTERFACE, interfaces);
            int i = 0;
            for (List<int[]> settings : alts.values()) {
                MemorySegment iface = interfaces.asSlice(i++ * LibUsbStructs.INTERFACE.byteSize());
                MemorySegment altArray = arena.allocate(LibUsbStructs.INTERFACE_DESCRIPTOR, settings.size());
                iface.set(ADDRESS, LibUsbStructs.INTERFACE_ALTSETTING, altArray);
                iface.set(JAVA_INT, LibUsbStructs.INTERFACE_NUM_ALTSETTING, settings.size());
                for (int a = 0; a < settings.size(); a++) {
                    int[] s = settings.get(a);
                    MemorySegment alt = altArray.asSlice(a * LibUsbStructs.INTERFACE_DESCRIPTOR.byteSize());
                    alt.set(JAVA_BYTE, LibUsbStructs.ALT_NUMBER, (byte) s[0]);
                    alt.set(JAVA_BYTE, LibUsbStructs.ALT_SETTING, (byte) s[1]);
                    alt.set(JAVA_BYTE, LibUsbStructs.ALT_NUM_ENDPOINTS, (byte) s[2]);
                    alt.set(JAVA_BYTE, LibUsbStructs.ALT_CLASS, (byte) s[3]);
                    alt.set(JAVA_BYTE, LibUsbStructs.ALT_SUBCLASS, (byte) s[4]);
                    alt.set(JAVA_BYTE, LibUsbStructs.ALT_PROTOCOL, (byte) s[5]);
                    List<int[]> eps = endpoints.get(s);
                    if (eps.isEmpty())
                        continue; // libusb leaves endpoint NULL
                    MemorySegment epArray = arena.allocate(LibUsbStructs.ENDPOINT_DESCRIPTOR, eps.size());
                    alt.set(ADDRESS, LibUsbStructs.ALT_ENDPOINT, epArray);
                    for (int e = 0; e < eps.size(); e++) {
                        MemorySegment ep = epArray.asSlice(e * LibUsbStructs.ENDPOINT_DESCRIPTOR.byteSize());
                        ep.set(JAVA_BYTE, LibUsbStructs.ENDPOINT_ADDRESS, (byte) eps.get(e)[0]);
                        ep.set(JAVA_BYTE, LibUsbStructs.ENDPOINT_ATTRIBUTES, (byte) eps.get(e)[1]);
                        ep.set(JAVA_SHORT, LibUsbStructs.ENDPOINT_MAX_PACKET, (short) eps.get(e)[2]);
                    }
                }
            }
            return config;
        }
    }
}
