// Where the OS has no Unix domain sockets (Windows before 10 1803, a sandbox
// that forbids AF_UNIX), `qbnet run` goes on without its control socket and
// says so in one line; a path it cannot use stays an error that names --control.
package dev.qbkit.qbnet.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.qbkit.qbnet.board.HostDriver;
import dev.qbkit.qbnet.nat.NatConfig;

class ControlUnavailableTest {
    private static final ControlServer.Opener NO_AF_UNIX = () -> {
        throw new UnsupportedOperationException("Unix domain sockets not supported");
    };

    @Test
    void noUnixSocketsIsItsOwnFailure(@TempDir Path dir) {
        var server = new ControlServer(dir.resolve("control.sock"), r -> ControlRequest.Reply.failed("x"), NO_AF_UNIX);
        var e = assertThrows(ControlServer.Unavailable.class, server::start);
        assertTrue(e.getMessage().contains("Unix domain sockets not supported"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("control.sock")));
    }

    @Test
    void socketCreationRefusedIsUnavailableToo(@TempDir Path dir) {
        ControlServer.Opener refused = () -> {
            throw new SocketException("Address family not supported by protocol");
        };
        var server = new ControlServer(dir.resolve("control.sock"), r -> ControlRequest.Reply.failed("x"), refused);
        assertInstanceOf(ControlServer.Unavailable.class, assertThrows(IOException.class, server::start));
    }

    @Test
    void runGoesOnWithoutTheControlSocket(@TempDir Path dir) throws IOException {
        var driver = new HostDriver(NatConfig.defaults(), List.of(new InetSocketAddress("127.0.0.1", 53)));
        try {
            assertFalse(driver.startControl(dir.resolve("control.sock"), NO_AF_UNIX));
            assertFalse(Files.exists(dir.resolve("control.sock")));
        } finally {
            driver.close();
        }
    }

    @Test
    void anUnusablePathIsStillAnErrorNamingTheFlag(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("file"), "");
        var driver = new HostDriver(NatConfig.defaults(), List.of(new InetSocketAddress("127.0.0.1", 53)));
        try {
            var e = assertThrows(IOException.class, () -> driver.startControl(file.resolve("control.sock")));
            assertFalse(e instanceof ControlServer.Unavailable);
            assertTrue(e.getMessage().contains("--control"), e.getMessage());
        } finally {
            driver.close();
        }
    }

    @Test
    void theRealSocketStillWorks(@TempDir Path dir) throws IOException {
        var driver = new HostDriver(NatConfig.defaults(), List.of(new InetSocketAddress("127.0.0.1", 53)));
        try {
            assertTrue(driver.startControl(dir.resolve("control.sock")));
            assertTrue(ControlClient.isServing(dir.resolve("control.sock")));
            assertEquals(true, Files.exists(dir.resolve("control.sock")));
        } finally {
            driver.close();
        }
    }
}
