// A dnsjava Resolver for tests: each query waits until the test answers it,
// oldest first, with an A record or a failure, as an upstream server would.
package dev.qbkit.qbnet.nat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.EDNSOption;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.Section;
import org.xbill.DNS.TSIG;

final class HeldResolver implements Resolver {
    private final ArrayDeque<CompletableFuture<Message>> pending = new ArrayDeque<>();
    private final ArrayDeque<Message> queries = new ArrayDeque<>();

    @Override
    public CompletionStage<Message> sendAsync(Message query) {
        CompletableFuture<Message> f = new CompletableFuture<>();
        pending.add(f);
        queries.add(query);
        return f;
    }

    /** Queries not answered yet. */
    int waiting() {
        return pending.size();
    }

    /** Answers the oldest query: 198.51.100.2, or an upstream timeout. False when none waits. */
    boolean answerNext(boolean ok) {
        CompletableFuture<Message> f = pending.poll();
        Message q = queries.poll();
        if (f == null)
            return false;
        if (ok)
            f.complete(answer(q));
        else
            f.completeExceptionally(new IOException("upstream timed out"));
        return true;
    }

    static Message answer(Message q) {
        Message m = new Message(q.getHeader().getID());
        m.getHeader().setFlag(Flags.QR);
        m.addRecord(q.getQuestion(), Section.QUESTION);
        try {
            m.addRecord(new ARecord(q.getQuestion().getName(), DClass.IN, 60,
                    InetAddress.getByAddress(new byte[] { (byte) 198, 51, 100, 2 })), Section.ANSWER);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
        return m;
    }

    @Override
    public void setPort(int port) {
    }

    @Override
    public void setTCP(boolean flag) {
    }

    @Override
    public void setIgnoreTruncation(boolean flag) {
    }

    @Override
    public void setEDNS(int version, int payloadSize, int flags, List<EDNSOption> options) {
    }

    @Override
    public void setTSIGKey(TSIG key) {
    }

    @Override
    public void setTimeout(Duration timeout) {
    }
}
