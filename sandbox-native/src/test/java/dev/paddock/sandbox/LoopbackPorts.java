package dev.paddock.sandbox;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/** Loopback ports for tests that start a server of another process (Prometheus, a container, Chromium) on one. */
public final class LoopbackPorts {
  private LoopbackPorts() {}

  /** A TCP port on 127.0.0.1 that was free a moment ago (the kernel's pick), and nothing listens on now. */
  public static int free() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
