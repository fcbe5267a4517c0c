// Where the qbnet link sits in a device's active configuration: the interface
// with class triple ff/71/01 (found by class, never by number) and its bulk IN
// and OUT endpoints, read from the descriptors libusb parsed for us.
package dev.qbkit.qbnet.usb;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * @param number     bInterfaceNumber, for claiming and as wIndex of vendor requests
 * @param altSetting bAlternateSetting that carries the class triple (normally 0)
 */
// Native access is this class's job; the jar grants it (Enable-Native-Access in the manifest).
@SuppressWarnings("restricted")
public record QbnetInterface(int number, int altSetting, int inEndpoint, int inMaxPacket, int outEndpoint,
        int outMaxPacket) {
    public static final int CLASS = 0xFF;
    public static final int SUBCLASS = 0x71;
    public static final int PROTOCOL = 0x01;

    private static final int TRANSFER_TYPE_BULK = 2;

    /** One endpoint descriptor's fields that matter here. */
    public record Endpoint(int address, int attributes, int maxPacketSize) {
        boolean isBulk() {
            return (attributes & LibUsb.TRANSFER_TYPE_MASK) == TRANSFER_TYPE_BULK;
        }

        boolean isIn() {
            return (address & LibUsb.ENDPOINT_IN) != 0;
        }

        /** Bits 0..10 of wMaxPacketSize (11..12 are extra transactions, for periodic endpoints only). */
        int packetSize() {
            return maxPacketSize & 0x7FF;
        }
    }

    /** One interface descriptor (an alternate setting) and its endpoints. */
    public record AltSetting(int number, int altSetting, int interfaceClass, int subclass, int protocol,
            List<Endpoint> endpoints) {
        public AltSetting {
            endpoints = List.copyOf(endpoints);
        }

        boolean isQbnet() {
            return interfaceClass == CLASS && subclass == SUBCLASS && protocol == PROTOCOL;
        }
    }

    /** "interface 0 (IN 0x81, OUT 0x01, 512-byte packets)". */
    @Override
    public String toString() {
        return String.format(java.util.Locale.ROOT, "interface %d%s (IN 0x%02x, OUT 0x%02x, %s-byte packets)", number,
                altSetting != 0 ? " alt " + altSetting : "", inEndpoint, outEndpoint,
                inMaxPacket == outMaxPacket ? "" + inMaxPacket : inMaxPacket + "/" + outMaxPacket);
    }

    /**
     * The first alternate setting with the qbnet class triple that has a bulk
     * IN and a bulk OUT endpoint with a usable packet size.
     *
     * @return null when there is none (not a qbnet board, or a broken one)
     */
    public static QbnetInterface find(List<AltSetting> settings) {
        for (AltSetting s : settings) {
            if (!s.isQbnet())
                continue;
            Endpoint in = null;
            Endpoint out = null;
            for (Endpoint e : s.endpoints()) {
                if (!e.isBulk() || e.packetSize() == 0)
                    continue;
                if (e.isIn() && in == null)
                    in = e;
                else if (!e.isIn() && out == null)
                    out = e;
            }
            if (in != null && out != null)
                return new QbnetInterface(s.number(), s.altSetting(), in.address(), in.packetSize(), out.address(),
                        out.packetSize());
        }
        return null;
    }

    /**
     * Reads every alternate setting of a {@code struct libusb_config_descriptor}
     * (as returned by libusb_get_active_config_descriptor), following its
     * interface, altsetting and endpoint arrays.
     */
    static List<AltSetting> walk(MemorySegment configPointer) {
        MemorySegment config = configPointer.reinterpret(LibUsbStructs.CONFIG_DESCRIPTOR.byteSize());
        int interfaces = Byte.toUnsignedInt(config.get(JAVA_BYTE, LibUsbStructs.CONFIG_NUM_INTERFACES));
        long interfaceSize = LibUsbStructs.INTERFACE.byteSize();
        long altSize = LibUsbStructs.INTERFACE_DESCRIPTOR.byteSize();
        long endpointSize = LibUsbStructs.ENDPOINT_DESCRIPTOR.byteSize();
        MemorySegment interfaceArray = config.get(ADDRESS, LibUsbStructs.CONFIG_INTERFACE)
                .reinterpret(interfaces * interfaceSize);
        List<AltSetting> result = new ArrayList<>();
        for (int i = 0; i < interfaces; i++) {
            MemorySegment iface = interfaceArray.asSlice(i * interfaceSize, interfaceSize);
            int alts = iface.get(JAVA_INT, LibUsbStructs.INTERFACE_NUM_ALTSETTING);
            if (alts <= 0)
                continue;
            MemorySegment altArray = iface.get(ADDRESS, LibUsbStructs.INTERFACE_ALTSETTING).reinterpret(alts * altSize);
            for (int a = 0; a < alts; a++) {
                MemorySegment alt = altArray.asSlice(a * altSize, altSize);
                int endpoints = Byte.toUnsignedInt(alt.get(JAVA_BYTE, LibUsbStructs.ALT_NUM_ENDPOINTS));
                List<Endpoint> eps = new ArrayList<>();
                MemorySegment epPointer = alt.get(ADDRESS, LibUsbStructs.ALT_ENDPOINT);
                if (endpoints > 0 && !epPointer.equals(MemorySegment.NULL)) {
                    MemorySegment epArray = epPointer.reinterpret(endpoints * endpointSize);
                    for (int e = 0; e < endpoints; e++) {
                        MemorySegment ep = epArray.asSlice(e * endpointSize, endpointSize);
                        eps.add(new Endpoint(Byte.toUnsignedInt(ep.get(JAVA_BYTE, LibUsbStructs.ENDPOINT_ADDRESS)),
                                Byte.toUnsignedInt(ep.get(JAVA_BYTE, LibUsbStructs.ENDPOINT_ATTRIBUTES)),
                                Short.toUnsignedInt(ep.get(JAVA_SHORT, LibUsbStructs.ENDPOINT_MAX_PACKET))));
                    }
                }
                result.add(new AltSetting(Byte.toUnsignedInt(alt.get(JAVA_BYTE, LibUsbStructs.ALT_NUMBER)),
                        Byte.toUnsignedInt(alt.get(JAVA_BYTE, LibUsbStructs.ALT_SETTING)),
                        Byte.toUnsignedInt(alt.get(JAVA_BYTE, LibUsbStructs.ALT_CLASS)),
                        Byte.toUnsignedInt(alt.get(JAVA_BYTE, LibUsbStructs.ALT_SUBCLASS)),
                        Byte.toUnsignedInt(alt.get(JAVA_BYTE, LibUsbStructs.ALT_PROTOCOL)), eps));
            }
        }
        return result;
    }
}
