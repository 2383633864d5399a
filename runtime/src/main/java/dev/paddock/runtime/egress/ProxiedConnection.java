package dev.paddock.runtime.egress;

import dev.paddock.ipc.v1.EgressDenyReason;
import dev.paddock.runtime.session.Session;
import dev.paddock.sandbox.linux.Fd;
import dev.paddock.sandbox.linux.NativeException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection from a jail: read the request, decide, connect, answer, then move bytes both ways
 * with splice until either side is done. Every decision is counted; a denial is answered in the
 * tool's protocol (an HTTP status with the reason in X-Paddock-Egress-Denied, or a SOCKS5 reply
 * code), sent as an event to the session's running execs, and recorded in the audit log; an
 * allowed connection is recorded when it ends, with its byte counts.
 */
final class ProxiedConnection {
  private static final Logger log = LoggerFactory.getLogger(ProxiedConnection.class);
  /** How long a tool has to send its request, ms. */
  private static final int REQUEST_TIMEOUT_MILLIS = 10_000;
  /** Most bytes moved per splice, and the relay pipe's size. */
  private static final int CHUNK_BYTES = 1024 * 1024;

  private final SessionEgress egress;
  private final Session session;
  private final Fd client;
  /** The tenant's counters, where every decision and every byte of this connection is counted. */
  private final EgressCounters counters;
  private volatile Fd upstream;
  private volatile TlsUpstream tlsUpstream;
  private volatile boolean aborted;
  /** Bytes moved so far, jail to destination and back (the relay's thread only). */
  private long bytesOut;
  private long bytesIn;

  ProxiedConnection(SessionEgress egress, Fd client) {
    this.egress = egress;
    this.session = egress.session;
    this.client = client;
    this.counters = egress.proxy.budget(session.tenantId()).counters;
  }

  void run() {
    EgressProxy proxy = egress.proxy;
    ClientStream in = new ClientStream(client, proxy.linux, ProxyRequest.MAX_HEAD_BYTES);
    ProxyTarget target = ProxyTarget.UNKNOWN;
    String execId = egress.runningExec();
    Throttle throttle = null;
    String address = "";
    try {
      proxy.sockets.setReceiveTimeout(client, REQUEST_TIMEOUT_MILLIS);
      proxy.sockets.setNoDelay(client);
      ProxyRequest req = ProxyRequest.read(in);
      EgressGrant grant = proxy.grant(session.tenantId());
      HeaderSecret overTls = req.protocol().equals("http") ? tlsBinding(grant, req.host()) : null;
      if (overTls != null && !req.portGiven()) {
        req = req.toPort(443); // the tool asked for http://host/...; it goes on as https://host/...
      }
      target = new ProxyTarget(req.host(), req.port(), req.protocol());
      EgressPolicy policy = new EgressPolicy(grant.rules(), session.egress(), proxy.settings().reachable());
      Denial denial = policy.checkRequest(req.host(), req.literal(), req.port());
      if (denial != null) {
        throw new ProxyRefusal(denial);
      }
      List<InetAddress> addresses = resolve(req);
      List<InetAddress> allowed = new ArrayList<>();
      for (InetAddress a : addresses) {
        Denial d = policy.checkAddress(a, req.port());
        if (d == null) {
          allowed.add(a);
        } else if (denial == null) {
          denial = d;
        }
      }
      if (allowed.isEmpty()) {
        throw new ProxyRefusal(denial);
      }
      throttle = proxy.admit(session.tenantId(), grant);
      if (throttle == null) {
        throw new ProxyRefusal(Denial.of(EgressDenyReason.EGRESS_DENY_REASON_BUDGET,
            "the tenant's egress connections are all in use (at most " + grant.maxConnections() + " open at once)"));
      }
      // After admission: a secret recorded as used is one that is then sent.
      List<String[]> headers = req.protocol().equals("http") ? headerSecrets(grant, req, execId) : List.of();
      if (overTls != null) {
        relayOverTls(in, req, allowed, headers, throttle);
        return;
      }
      address = connect(allowed, req.port());
      counters.allowed();
      switch (req.protocol()) {
        case "connect" -> in.write("HTTP/1.1 200 Connection established\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        case "socks5" -> in.write(new byte[] {5, 0, 0, 1, 0, 0, 0, 0, 0, 0});
        default -> writeUpstream(req.http().forward(ProxyRequest.originForm(req.http().target()), headers));
      }
      writeUpstream(in.leftover());
      proxy.sockets.setReceiveTimeout(client, 0);
      relay(throttle);
    } catch (ProxyRefusal r) {
      refuse(in, target, r, execId);
    } catch (IOException | NativeException e) {
      log.debug("session {}: egress connection ended: {}", session.id(), e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      log.error("session {}: egress connection failed", session.id(), e);
    } finally {
      if (throttle != null) {
        proxy.release(session.tenantId());
      }
      Fd up = upstream;
      if (up != null) {
        up.close();
        proxy.audit().connectionClosed(session, execId, target, address, bytesOut, bytesIn);
      }
      client.close();
    }
  }

  /** Cuts the connection (the session closed): both sockets shut down, so the relay ends. */
  void abort() {
    aborted = true;
    egress.proxy.sockets.shutdown(client, false);
    Fd up = upstream;
    if (up != null) {
      egress.proxy.sockets.shutdown(up, false);
    }
    TlsUpstream tls = tlsUpstream;
    if (tls != null) {
      tls.close();
    }
  }

  private List<InetAddress> resolve(ProxyRequest req) throws ProxyRefusal {
    if (req.literal() != null) {
      return List.of(req.literal());
    }
    try {
      return egress.proxy.resolver().resolve(req.host());
    } catch (UnknownHostException e) {
      throw new ProxyRefusal(Denial.of(EgressDenyReason.EGRESS_DENY_REASON_UNRESOLVED, req.host() + " does not resolve"));
    }
  }

  /** Connects to the first address that answers; returns it. */
  private String connect(List<InetAddress> addresses, int port) throws ProxyRefusal {
    NativeException last = null;
    int timeout = (int) egress.proxy.settings().connectTimeout().toMillis();
    for (InetAddress a : addresses) {
      try {
        upstream = egress.proxy.sockets.connect(a, port, timeout);
        if (aborted) {
          egress.proxy.sockets.shutdown(upstream, false);
        }
        return a.getHostAddress();
      } catch (NativeException e) {
        last = e;
      }
    }
    String why = last == null ? "" : " (" + last.errno().name().replace("OTHER", "errno " + last.rawErrno()) + ")";
    InetAddress first = addresses.get(0);
    throw new ProxyRefusal(new Denial(EgressDenyReason.EGRESS_DENY_REASON_UNREACHABLE,
        "could not connect to " + first.getHostAddress() + ":" + port + why, first.getHostAddress()));
  }

  /** The session's header secret bound to {@code host} that must travel over TLS, or null. */
  private HeaderSecret tlsBinding(EgressGrant grant, String host) {
    for (String name : session.headerSecrets()) {
      HeaderSecret b = grant.headerSecret(name);
      if (b != null && b.https() && b.host().equals(host)) {
        return b;
      }
    }
    return null;
  }

  /** A plain request the proxy sends on over its own TLS connection (a header secret that must stay encrypted). */
  private void relayOverTls(ClientStream in, ProxyRequest req, List<InetAddress> allowed, List<String[]> headers,
      Throttle throttle) throws ProxyRefusal, IOException, InterruptedException, NativeException {
    EgressProxy proxy = egress.proxy;
    TlsUpstream tls = null;
    IOException last = null;
    InetAddress used = null;
    for (InetAddress a : allowed) {
      try {
        tls = TlsUpstream.connect(a, req.port(), req.host(), (int) proxy.settings().connectTimeout().toMillis(),
            proxy.settings().upstreamCa());
        used = a;
        break;
      } catch (IOException e) {
        last = e;
      }
    }
    if (tls == null) {
      String shown = allowed.get(0).getHostAddress();
      throw new ProxyRefusal(new Denial(EgressDenyReason.EGRESS_DENY_REASON_UNREACHABLE, "could not make a TLS connection to "
          + req.host() + ":" + req.port() + " (" + (last == null ? "" : last.getMessage()) + ")", shown));
    }
    String execId = egress.runningExec();
    ProxyTarget target = new ProxyTarget(req.host(), req.port(), req.protocol());
    tlsUpstream = tls;
    if (aborted) {
      tls.close();
    }
    try (TlsUpstream upstreamTls = tls) {
      counters.allowed();
      byte[] head = req.http().forward(ProxyRequest.originForm(req.http().target()), headers);
      byte[] rest = in.leftover();
      upstreamTls.write(head);
      upstreamTls.write(rest);
      long[] moved = {head.length + rest.length, 0};
      counters.moved(moved[0], 0);
      proxy.sockets.setReceiveTimeout(client, 0);
      upstreamTls.relay(client, proxy.linux, proxy.workers, throttle, n -> {
        moved[0] += n;
        counters.moved(n, 0);
      }, n -> {
        moved[1] += n;
        counters.moved(0, n);
      }, () -> proxy.sockets.shutdown(client, false));
      proxy.audit().connectionClosed(session, execId, target, used.getHostAddress(), moved[0], moved[1]);
    }
  }

  /** The headers of the session's header secrets bound to this request's host, each use recorded first. */
  private List<String[]> headerSecrets(EgressGrant grant, ProxyRequest req, String execId) throws ProxyRefusal {
    List<String[]> out = new ArrayList<>();
    for (String name : session.headerSecrets()) {
      HeaderSecret binding = grant.headerSecret(name);
      if (binding == null || !binding.host().equals(req.host())) {
        continue;
      }
      byte[] value;
      try {
        value = egress.proxy.secretSource().reveal(session.tenantId(), name);
      } catch (IOException | RuntimeException e) {
        throw new ProxyRefusal(Denial.of(EgressDenyReason.EGRESS_DENY_REASON_SECRET_UNAVAILABLE,
            "the header secret " + name + " for " + req.host() + " is not in the tenant's vault"));
      }
      String text = new String(value, StandardCharsets.UTF_8);
      java.util.Arrays.fill(value, (byte) 0);
      if (text.chars().anyMatch(c -> c == '\r' || c == '\n' || c == 0)) {
        throw new ProxyRefusal(Denial.of(EgressDenyReason.EGRESS_DENY_REASON_SECRET_UNAVAILABLE,
            "the header secret " + name + " holds a line break, so it cannot be a header"));
      }
      egress.proxy.audit().headerSecretUsed(session, execId, name, req.host(), binding.header());
      out.add(new String[] {binding.header(), binding.prefix() + text});
    }
    return out;
  }

  private void writeUpstream(byte[] data) throws NativeException {
    egress.proxy.linux.writeAll(upstream, data, 0, data.length);
    bytesOut += data.length;
    counters.moved(data.length, 0);
  }

  /** Moves bytes both ways until both directions ended; the destination's side on a worker. */
  private void relay(Throttle throttle) throws InterruptedException {
    Fd up = upstream;
    Future<long[]> down = egress.proxy.workers.submit(() -> new long[] {pump(up, client, throttle, false)});
    long out = pump(client, up, throttle, true);
    long in = 0;
    try {
      in = down.get()[0];
    } catch (ExecutionException e) {
      log.debug("session {}: egress relay failed", session.id(), e.getCause());
    }
    bytesOut += out;
    bytesIn += in;
  }

  /**
   * One direction: splice until end of input, then pass the end on. Counted as it goes (usage shows
   * a long download while it runs). Returns the bytes moved.
   */
  private long pump(Fd from, Fd to, Throttle throttle, boolean outbound) throws InterruptedException {
    long moved = 0;
    Fd[] pipe = null;
    try {
      pipe = egress.proxy.sockets.relayPipe(CHUNK_BYTES);
      while (true) {
        long n = egress.proxy.sockets.relay(from, pipe, to, CHUNK_BYTES);
        if (n == 0) {
          egress.proxy.sockets.shutdown(to, true);
          return moved;
        }
        moved += n;
        counters.moved(outbound ? n : 0, outbound ? 0 : n);
        throttle.take(n);
      }
    } catch (NativeException e) {
      // A reset on either side ends both directions.
      egress.proxy.sockets.shutdown(from, false);
      egress.proxy.sockets.shutdown(to, false);
      return moved;
    } finally {
      if (pipe != null) {
        pipe[0].close();
        pipe[1].close();
      }
    }
  }

  /**
   * Reports a refused request (counted, recorded durably, sent to the running execs: see
   * {@link SessionEgress#report}), then answers it in the tool's protocol.
   */
  private void refuse(ClientStream in, ProxyTarget target, ProxyRefusal r, String execId) {
    Denial denial = r.denial();
    egress.report(target, denial, execId);
    try {
      if (in.firstByte == 5) {
        if (in.socksGreeted) {
          int code = r instanceof ProxyRequest.Socks5Refusal s ? s.code : socksCode(denial);
          in.write(new byte[] {5, (byte) code, 0, 1, 0, 0, 0, 0, 0, 0});
        }
      } else if (in.firstByte >= 0) {
        byte[] body = (denial.detail() + "\n").getBytes(StandardCharsets.UTF_8);
        String head = "HTTP/1.1 " + httpStatus(denial) + "\r\nContent-Type: text/plain; charset=utf-8\r\n"
            + "X-Paddock-Egress-Denied: " + denial.reasonName() + "\r\nConnection: close\r\nContent-Length: " + body.length + "\r\n\r\n";
        byte[] h = head.getBytes(StandardCharsets.US_ASCII);
        byte[] all = java.util.Arrays.copyOf(h, h.length + body.length);
        System.arraycopy(body, 0, all, h.length, body.length);
        in.write(all);
      }
    } catch (IOException e) {
      // the tool hung up: it is still reported
    }
  }

  private static String httpStatus(Denial d) {
    return switch (d.reason()) {
      case EGRESS_DENY_REASON_BAD_REQUEST -> "400 Bad Request";
      case EGRESS_DENY_REASON_BUDGET -> "429 Too Many Requests";
      case EGRESS_DENY_REASON_UNRESOLVED, EGRESS_DENY_REASON_UNREACHABLE, EGRESS_DENY_REASON_SECRET_UNAVAILABLE -> "502 Bad Gateway";
      default -> "403 Forbidden";
    };
  }

  private static int socksCode(Denial d) {
    return switch (d.reason()) {
      case EGRESS_DENY_REASON_BAD_REQUEST -> 1;
      case EGRESS_DENY_REASON_UNRESOLVED -> 4;
      case EGRESS_DENY_REASON_UNREACHABLE -> d.detail().contains("ECONNREFUSED") ? 5 : 4;
      case EGRESS_DENY_REASON_SECRET_UNAVAILABLE -> 1;
      default -> 2;
    };
  }

}
