package dev.paddock.runtime.egress;

import dev.paddock.sandbox.linux.Fd;
import dev.paddock.sandbox.linux.LinuxSyscalls;
import dev.paddock.sandbox.linux.NativeException;
import java.io.EOFException;
import java.io.IOException;
import java.util.Arrays;

/**
 * Buffered blocking reads of a proxy request from the jail's side of a connection, bounded in size;
 * what was read past the request stays in the buffer ({@link #leftover}) to be forwarded. Reads
 * time out through the socket's SO_RCVTIMEO (read returns -1).
 */
final class ClientStream {
  private final Fd fd;
  private final LinuxSyscalls linux;
  private final byte[] buf;
  private int start;
  private int end;
  /** The first byte the tool sent (5 for SOCKS5), -1 before; decides the form of a refusal. */
  int firstByte = -1;
  /** True once the SOCKS5 greeting was answered: a refusal is then a SOCKS5 reply. */
  boolean socksGreeted;

  ClientStream(Fd fd, LinuxSyscalls linux, int maxBytes) {
    this.fd = fd;
    this.linux = linux;
    this.buf = new byte[maxBytes];
  }

  /** The next byte. */
  int readByte() throws IOException {
    fill(1);
    return buf[start++] & 0xff;
  }

  /** The next {@code n} bytes. */
  byte[] readBytes(int n) throws IOException {
    fill(n);
    byte[] out = Arrays.copyOfRange(buf, start, start + n);
    start += n;
    return out;
  }

  /** The first byte without taking it. */
  int peek() throws IOException {
    fill(1);
    if (firstByte < 0) {
      firstByte = buf[start] & 0xff;
    }
    return buf[start] & 0xff;
  }

  /**
   * Everything up to and including the first blank line (CRLF CRLF, or LF LF), or
   * ProxyRefusal(BAD_REQUEST) when the buffer fills first.
   */
  byte[] readHead() throws IOException {
    int scanned = 0; // bytes after start looked at already (fill may move them)
    while (true) {
      for (int i = start + Math.max(scanned, 1); i < end; i++) {
        if (buf[i] == '\n' && (buf[i - 1] == '\n' || (i - 2 >= start && buf[i - 1] == '\r' && buf[i - 2] == '\n'))) {
          byte[] head = Arrays.copyOfRange(buf, start, i + 1);
          start = i + 1;
          return head;
        }
      }
      scanned = end - start;
      if (end - start >= buf.length) {
        throw new ProxyRefusal.BadRequest("the request head is over " + buf.length + " bytes");
      }
      fill(end - start + 1);
    }
  }

  /** Bytes read past the request, to go to the destination first. */
  byte[] leftover() {
    return Arrays.copyOfRange(buf, start, end);
  }

  /** Writes all of {@code data} to the jail's side. */
  void write(byte[] data) throws IOException {
    try {
      linux.writeAll(fd, data, 0, data.length);
    } catch (NativeException e) {
      throw new IOException(e.getMessage());
    }
  }

  /** Makes {@code n} bytes available from {@code start}. */
  private void fill(int n) throws IOException {
    if (n > buf.length) {
      throw new ProxyRefusal.BadRequest("the request is over " + buf.length + " bytes");
    }
    if (start + n > buf.length) {
      System.arraycopy(buf, start, buf, 0, end - start);
      end -= start;
      start = 0;
    }
    while (end - start < n) {
      int got;
      try {
        got = linux.read(fd, buf, end, buf.length - end);
      } catch (NativeException e) {
        throw new IOException(e.getMessage());
      }
      if (got < 0) {
        throw new ProxyRefusal.BadRequest("the request did not arrive in time");
      }
      if (got == 0) {
        throw new EOFException("the tool closed the connection");
      }
      end += got;
    }
  }
}
