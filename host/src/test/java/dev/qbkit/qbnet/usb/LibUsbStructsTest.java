// Checks the libusb struct layouts against the C compiler's offsetof/sizeof
// for each ABI qbnet runs on: 64-bit (x86_64 and aarch64 Linux, macOS, Windows x64) and 32-bit ARM.
package dev.qbkit.qbnet.usb;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;

import org.junit.jupiter.api.Test;

/*
 * Expected numbers come from compiling libusb.h 1.0.26 with offsetof/sizeof:
 * gcc (x86_64-linux-gnu), aarch64-linux-gnu-gcc, clang -target x86_64-pc-windows-msvc
 * (all three agree: pointers 8, int 4; struct libusb_transfer has no C long),
 * and arm-linux-gnueabihf-gcc for the 32-bit column. A 32-bit pointer is
 * stood in for by JAVA_INT (same size and alignment).
 */
class LibUsbStructsTest {
    private static final MemoryLayout POINTER_32 = JAVA_INT;

    private static long at(StructLayout s, String field) {
        return LibUsbStructs.offset(s, field);
    }

    @Test
    void transferOn64Bit() {
        assertEquals(8, ADDRESS.byteSize(), "these tests run on a 64-bit JVM");
        StructLayout t = LibUsbStructs.TRANSFER;
        assertEquals(64, t.byteSize());
        assertEquals(0, at(t, "dev_handle"));
        assertEquals(8, at(t, "flags"));
        assertEquals(9, at(t, "endpoint"));
        assertEquals(10, at(t, "type"));
        assertEquals(12, at(t, "timeout"));
        assertEquals(16, at(t, "status"));
        assertEquals(20, at(t, "length"));
        assertEquals(24, at(t, "actual_length"));
        assertEquals(32, at(t, "callback"));
        assertEquals(40, at(t, "user_data"));
        assertEquals(48, at(t, "buffer"));
        assertEquals(56, at(t, "num_iso_packets"));
        assertEquals(8, t.byteAlignment());
    }

    @Test
    void transferOn32BitArm() {
        StructLayout t = LibUsbStructs.transfer(POINTER_32);
        assertEquals(40, t.byteSize());
        assertEquals(4, at(t, "flags"));
        assertEquals(8, at(t, "timeout"));
        assertEquals(12, at(t, "status"));
        assertEquals(16, at(t, "length"));
        assertEquals(20, at(t, "actual_length"));
        assertEquals(24, at(t, "callback"));
        assertEquals(28, at(t, "user_data"));
        assertEquals(32, at(t, "buffer"));
        assertEquals(36, at(t, "num_iso_packets"));
    }

    @Test
    void descriptorsOn64Bit() {
        StructLayout d = LibUsbStructs.DEVICE_DESCRIPTOR;
        assertEquals(18, d.byteSize());
        assertEquals(8, at(d, "idVendor"));
        assertEquals(10, at(d, "idProduct"));
        assertEquals(12, at(d, "bcdDevice"));
        assertEquals(16, at(d, "iSerialNumber"));

        StructLayout c = LibUsbStructs.CONFIG_DESCRIPTOR;
        assertEquals(40, c.byteSize());
        assertEquals(4, at(c, "bNumInterfaces"));
        assertEquals(8, at(c, "MaxPower"));
        assertEquals(16, at(c, "interface"));
        assertEquals(24, at(c, "extra"));
        assertEquals(32, at(c, "extra_length"));

        assertEquals(16, LibUsbStructs.INTERFACE.byteSize());
        assertEquals(8, at(LibUsbStructs.INTERFACE, "num_altsetting"));

        StructLayout i = LibUsbStructs.INTERFACE_DESCRIPTOR;
        assertEquals(40, i.byteSize());
        assertEquals(2, at(i, "bInterfaceNumber"));
        assertEquals(5, at(i, "bInterfaceClass"));
        assertEquals(8, at(i, "iInterface"));
        assertEquals(16, at(i, "endpoint"));
        assertEquals(32, at(i, "extra_length"));

        StructLayout e = LibUsbStructs.ENDPOINT_DESCRIPTOR;
        assertEquals(32, e.byteSize());
        assertEquals(2, at(e, "bEndpointAddress"));
        assertEquals(4, at(e, "wMaxPacketSize"));
        assertEquals(8, at(e, "bSynchAddress"));
        assertEquals(16, at(e, "extra"));
        assertEquals(24, at(e, "extra_length"));

        assertEquals(24, LibUsbStructs.VERSION.byteSize());
        assertEquals(8, at(LibUsbStructs.VERSION, "rc"));
        assertEquals(16, at(LibUsbStructs.VERSION, "describe"));
    }

    @Test
    void descriptorsOn32BitArm() {
        assertEquals(24, LibUsbStructs.configDescriptor(POINTER_32).byteSize());
        assertEquals(12, at(LibUsbStructs.configDescriptor(POINTER_32), "interface"));
        assertEquals(20, at(LibUsbStructs.configDescriptor(POINTER_32), "extra_length"));
        assertEquals(8, LibUsbStructs.usbInterface(POINTER_32).byteSize());
        assertEquals(24, LibUsbStructs.interfaceDescriptor(POINTER_32).byteSize());
        assertEquals(12, at(LibUsbStructs.interfaceDescriptor(POINTER_32), "endpoint"));
        assertEquals(20, LibUsbStructs.endpointDescriptor(POINTER_32).byteSize());
        assertEquals(12, at(LibUsbStructs.endpointDescriptor(POINTER_32), "extra"));
    }

    @Test
    void timevalIsTwoCLongs() {
        // 16 bytes on LP64 (Linux, macOS), 8 on Windows where long is 4 bytes.
        assertEquals(2 * LibUsbStructs.C_LONG.byteSize(), LibUsbStructs.TIMEVAL.byteSize());
    }

    @Test
    void structPadsLikeC() {
        StructLayout s = LibUsbStructs.struct(ValueLayout.JAVA_BYTE.withName("a"), ValueLayout.JAVA_LONG.withName("b"),
                ValueLayout.JAVA_SHORT.withName("c"));
        assertEquals(0, at(s, "a"));
        assertEquals(8, at(s, "b"));
        assertEquals(16, at(s, "c"));
        assertEquals(24, s.byteSize());
        assertThrows(IllegalArgumentException.class, () -> at(s, "missing"));
    }
}
