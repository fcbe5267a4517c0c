// The binding against the real libusb-1.0 of this machine, without a device:
// the library loads, every bound function resolves, a context starts and
// stops its event thread, and a scan for an unused ID finds nothing.
package dev.qbkit.qbnet.usb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.qbkit.qbnet.platform.Platform;

class LibUsbTest {
    @BeforeAll
    static void libusbIsInstalled() {
        try {
            Platform.libusb();
        } catch (Platform.LibraryMissing e) {
            Assumptions.abort("skipped: " + e.getMessage() + " (tests/deps.sh usb installs it)");
        }
    }

    @Test
    void namesErrors() {
        assertTrue(LibUsb.describe(LibUsb.ERROR_ACCESS).startsWith("LIBUSB_ERROR_ACCESS"), LibUsb.describe(-3));
        assertTrue(LibUsb.describe(LibUsb.ERROR_NO_DEVICE).startsWith("LIBUSB_ERROR_NO_DEVICE"));
        assertEquals("LIBUSB_TRANSFER_STALL", LibUsb.transferStatusName(LibUsb.TRANSFER_STALL));
    }

    @Test
    void contextStartsScansAndStops() throws Exception {
        UsbContext context = UsbContext.open(0);
        try {
            assertTrue(context.libusbVersion().matches("1\\.\\d+\\.\\d+\\.\\d+.*"), context.libusbVersion());
            List<UsbDevice> none = UsbDevice.scan(context, Set.of(new UsbId(0xFFFE, 0xFFFE)));
            assertEquals(List.of(), none);
            if (context.hasHotplug())
                assertTrue(context.watchHotplug(() -> {
                }));
            else
                assertFalse(context.watchHotplug(() -> {
                }));
        } finally {
            context.close();
        }
    }

    @Test
    void transfersAllocateAndFree() throws Exception {
        UsbContext context = UsbContext.open(0);
        try {
            UsbTransfer t = UsbTransfer.bulkOut(new UnboundIo(), transfer -> {
            }, 0x02);
            t.setOut(java.nio.ByteBuffer.allocateDirect(512), true);
            assertFalse(t.isIn());
            t.free();
            t.free(); // idempotent
        } finally {
            context.close();
        }
    }

    /**
     * What C receives for the carriers LibUsb uses for unsigned arguments,
     * through libc's abs(int), which returns the register's low 32 bits as an
     * int: U8 and U16 arrive as their value. JAVA_BYTE (what the binding used)
     * would arrive sign-extended: endpoint 0x81 as -127.
     */
    @Test
    @SuppressWarnings("restricted")
    void unsignedArgumentsReachCAsTheirValue() throws Throwable {
        java.lang.foreign.Linker linker = java.lang.foreign.Linker.nativeLinker();
        java.lang.foreign.MemorySegment abs = linker.defaultLookup().findOrThrow("abs");
        java.lang.invoke.MethodHandle u8 = linker.downcallHandle(abs,
                java.lang.foreign.FunctionDescriptor.of(java.lang.foreign.ValueLayout.JAVA_INT, LibUsb.U8));
        java.lang.invoke.MethodHandle u16 = linker.downcallHandle(abs,
                java.lang.foreign.FunctionDescriptor.of(java.lang.foreign.ValueLayout.JAVA_INT, LibUsb.U16));
        java.lang.invoke.MethodHandle signedByte = linker.downcallHandle(abs,
                java.lang.foreign.FunctionDescriptor.of(java.lang.foreign.ValueLayout.JAVA_INT,
                        java.lang.foreign.ValueLayout.JAVA_BYTE));
        assertEquals(0x81, (int) u8.invokeExact(0x81 & 0xff), "IN endpoint 1");
        assertEquals(0xC1, (int) u8.invokeExact(0xC1 & 0xff), "vendor IN request type");
        assertEquals(0xFFFF, (int) u16.invokeExact((char) 0xFFFF), "wLength 65535");
        assertEquals(127, (int) signedByte.invokeExact((byte) 0x81), "JAVA_BYTE sign-extends: why LibUsb.U8 is not it");
    }

    /** libusb's transfer calls, for a transfer bound to no device. */
    private static final class UnboundIo implements UsbIo {
        @Override
        public String location() {
            return "none";
        }

        @Override
        public QbnetInterface qbnetInterface() {
            return new QbnetInterface(0, 0, 0x81, 512, 0x02, 512);
        }

        @Override
        public java.lang.foreign.MemorySegment handle() {
            return java.lang.foreign.MemorySegment.NULL;
        }

        @Override
        public java.lang.foreign.MemorySegment allocTransfer() {
            return LibUsb.allocTransfer();
        }

        @Override
        public java.lang.foreign.MemorySegment transferCallback() {
            return UsbIo.CallbackStub.STUB;
        }

        @Override
        public int submitTransfer(java.lang.foreign.MemorySegment transfer) {
            return LibUsb.submitTransfer(transfer);
        }

        @Override
        public int cancelTransfer(java.lang.foreign.MemorySegment transfer) {
            return LibUsb.cancelTransfer(transfer);
        }

        @Override
        public void freeTransfer(java.lang.foreign.MemorySegment transfer) {
            LibUsb.freeTransfer(transfer);
        }

        @Override
        public int clearHalt(int endpoint) {
            return LibUsb.ERROR_NOT_SUPPORTED;
        }

        @Override
        public void close() {
        }
    }
}
