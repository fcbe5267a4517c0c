// The C structs of libusb-1.0 that qbnet reads or writes, as MemoryLayouts
// built by C's natural-alignment rules from the platform's pointer, int and
// long sizes, so one definition fits LP64 (Linux, macOS), LLP64 (Windows x64) and ILP32.
package dev.qbkit.qbnet.usb;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.StructLayout;
import java.util.ArrayList;
import java.util.List;

final class LibUsbStructs {
    /** C {@code long}: 8 bytes on LP64, 4 on Windows (LLP64). */
    static final MemoryLayout C_LONG = Linker.nativeLinker().canonicalLayouts().get("long");

    static final StructLayout TRANSFER = transfer(ADDRESS);
    static final StructLayout DEVICE_DESCRIPTOR = deviceDescriptor();
    static final StructLayout CONFIG_DESCRIPTOR = configDescriptor(ADDRESS);
    static final StructLayout INTERFACE = usbInterface(ADDRESS);
    static final StructLayout INTERFACE_DESCRIPTOR = interfaceDescriptor(ADDRESS);
    static final StructLayout ENDPOINT_DESCRIPTOR = endpointDescriptor(ADDRESS);
    static final StructLayout VERSION = version(ADDRESS);
    /**
     * {@code struct timeval}: two C longs on Linux and Windows. macOS has an
     * int tv_usec plus padding; qbnet only ever writes 0 there, so the same
     * 16 bytes serve.
     */
    static final StructLayout TIMEVAL = struct(C_LONG.withName("tv_sec"), C_LONG.withName("tv_usec"));

    // struct libusb_transfer
    static final long TRANSFER_DEV_HANDLE = offset(TRANSFER, "dev_handle");
    static final long TRANSFER_FLAGS = offset(TRANSFER, "flags");
    static final long TRANSFER_ENDPOINT = offset(TRANSFER, "endpoint");
    static final long TRANSFER_TYPE = offset(TRANSFER, "type");
    static final long TRANSFER_TIMEOUT = offset(TRANSFER, "timeout");
    static final long TRANSFER_STATUS = offset(TRANSFER, "status");
    static final long TRANSFER_LENGTH = offset(TRANSFER, "length");
    static final long TRANSFER_ACTUAL_LENGTH = offset(TRANSFER, "actual_length");
    static final long TRANSFER_CALLBACK = offset(TRANSFER, "callback");
    static final long TRANSFER_USER_DATA = offset(TRANSFER, "user_data");
    static final long TRANSFER_BUFFER = offset(TRANSFER, "buffer");
    static final long TRANSFER_NUM_ISO_PACKETS = offset(TRANSFER, "num_iso_packets");

    // struct libusb_device_descriptor
    static final long DEVICE_ID_VENDOR = offset(DEVICE_DESCRIPTOR, "idVendor");
    static final long DEVICE_ID_PRODUCT = offset(DEVICE_DESCRIPTOR, "idProduct");
    static final long DEVICE_BCD_DEVICE = offset(DEVICE_DESCRIPTOR, "bcdDevice");
    static final long DEVICE_I_SERIAL = offset(DEVICE_DESCRIPTOR, "iSerialNumber");

    // struct libusb_config_descriptor, libusb_interface, libusb_interface_descriptor, libusb_endpoint_descriptor
    static final long CONFIG_NUM_INTERFACES = offset(CONFIG_DESCRIPTOR, "bNumInterfaces");
    static final long CONFIG_INTERFACE = offset(CONFIG_DESCRIPTOR, "interface");
    static final long INTERFACE_ALTSETTING = offset(INTERFACE, "altsetting");
    static final long INTERFACE_NUM_ALTSETTING = offset(INTERFACE, "num_altsetting");
    static final long ALT_NUMBER = offset(INTERFACE_DESCRIPTOR, "bInterfaceNumber");
    static final long ALT_SETTING = offset(INTERFACE_DESCRIPTOR, "bAlternateSetting");
    static final long ALT_NUM_ENDPOINTS = offset(INTERFACE_DESCRIPTOR, "bNumEndpoints");
    static final long ALT_CLASS = offset(INTERFACE_DESCRIPTOR, "bInterfaceClass");
    static final long ALT_SUBCLASS = offset(INTERFACE_DESCRIPTOR, "bInterfaceSubClass");
    static final long ALT_PROTOCOL = offset(INTERFACE_DESCRIPTOR, "bInterfaceProtocol");
    static final long ALT_ENDPOINT = offset(INTERFACE_DESCRIPTOR, "endpoint");
    static final long ENDPOINT_ADDRESS = offset(ENDPOINT_DESCRIPTOR, "bEndpointAddress");
    static final long ENDPOINT_ATTRIBUTES = offset(ENDPOINT_DESCRIPTOR, "bmAttributes");
    static final long ENDPOINT_MAX_PACKET = offset(ENDPOINT_DESCRIPTOR, "wMaxPacketSize");

    // struct libusb_version
    static final long VERSION_MAJOR = offset(VERSION, "major");
    static final long VERSION_MINOR = offset(VERSION, "minor");
    static final long VERSION_MICRO = offset(VERSION, "micro");
    static final long VERSION_NANO = offset(VERSION, "nano");
    static final long VERSION_RC = offset(VERSION, "rc");

    private LibUsbStructs() {
    }

    /**
     * A C struct of {@code fields} in order: each field starts at the next
     * multiple of its alignment, and the size is rounded up to the largest
     * alignment (C's rules on every ABI qbnet runs on).
     */
    static StructLayout struct(MemoryLayout... fields) {
        List<MemoryLayout> members = new ArrayList<>();
        long offset = 0;
        long maxAlign = 1;
        int pad = 0;
        for (MemoryLayout f : fields) {
            long align = f.byteAlignment();
            maxAlign = Math.max(maxAlign, align);
            long aligned = (offset + align - 1) / align * align;
            if (aligned > offset)
                members.add(MemoryLayout.paddingLayout(aligned - offset).withName("pad" + pad++));
            members.add(f);
            offset = aligned + f.byteSize();
        }
        long size = (offset + maxAlign - 1) / maxAlign * maxAlign;
        if (size > offset)
            members.add(MemoryLayout.paddingLayout(size - offset).withName("pad" + pad));
        return MemoryLayout.structLayout(members.toArray(MemoryLayout[]::new));
    }

    static long offset(StructLayout layout, String field) {
        return layout.byteOffset(PathElement.groupElement(field));
    }

    private static MemoryLayout u8(String name) {
        return JAVA_BYTE.withName(name);
    }

    private static MemoryLayout u16(String name) {
        return JAVA_SHORT.withName(name);
    }

    private static MemoryLayout cInt(String name) {
        return JAVA_INT.withName(name);
    }

    /** {@code pointer} is ADDRESS, or a stand-in of another size for checking other ABIs. */
    static StructLayout transfer(MemoryLayout pointer) {
        return struct(pointer.withName("dev_handle"), u8("flags"), u8("endpoint"), u8("type"),
                cInt("timeout"), cInt("status"), cInt("length"), cInt("actual_length"),
                pointer.withName("callback"), pointer.withName("user_data"), pointer.withName("buffer"),
                cInt("num_iso_packets"));
        // iso_packet_desc[] follows (flexible array, unused: qbnet allocates transfers with 0 iso packets)
    }

    static StructLayout deviceDescriptor() {
        return struct(u8("bLength"), u8("bDescriptorType"), u16("bcdUSB"), u8("bDeviceClass"),
                u8("bDeviceSubClass"), u8("bDeviceProtocol"), u8("bMaxPacketSize0"), u16("idVendor"),
                u16("idProduct"), u16("bcdDevice"), u8("iManufacturer"), u8("iProduct"), u8("iSerialNumber"),
                u8("bNumConfigurations"));
    }

    static StructLayout configDescriptor(MemoryLayout pointer) {
        return struct(u8("bLength"), u8("bDescriptorType"), u16("wTotalLength"), u8("bNumInterfaces"),
                u8("bConfigurationValue"), u8("iConfiguration"), u8("bmAttributes"), u8("MaxPower"),
                pointer.withName("interface"), pointer.withName("extra"), cInt("extra_length"));
    }

    static StructLayout usbInterface(MemoryLayout pointer) {
        return struct(pointer.withName("altsetting"), cInt("num_altsetting"));
    }

    static StructLayout interfaceDescriptor(MemoryLayout pointer) {
        return struct(u8("bLength"), u8("bDescriptorType"), u8("bInterfaceNumber"), u8("bAlternateSetting"),
                u8("bNumEndpoints"), u8("bInterfaceClass"), u8("bInterfaceSubClass"), u8("bInterfaceProtocol"),
                u8("iInterface"), pointer.withName("endpoint"), pointer.withName("extra"), cInt("extra_length"));
    }

    static StructLayout endpointDescriptor(MemoryLayout pointer) {
        return struct(u8("bLength"), u8("bDescriptorType"), u8("bEndpointAddress"), u8("bmAttributes"),
                u16("wMaxPacketSize"), u8("bInterval"), u8("bRefresh"), u8("bSynchAddress"),
                pointer.withName("extra"), cInt("extra_length"));
    }

    static StructLayout version(MemoryLayout pointer) {
        return struct(u16("major"), u16("minor"), u16("micro"), u16("nano"), pointer.withName("rc"),
                pointer.withName("describe"));
    }
}
