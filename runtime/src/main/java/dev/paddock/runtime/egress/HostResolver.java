package dev.paddock.runtime.egress;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Resolves the names tools ask for, on the host (the jail has no resolver of its own): the
 * operator's fixed names first (a hosts file of the egress proxy's own), then the system resolver.
 */
public interface HostResolver {
  /** Every address of {@code name} (lower case), or UnknownHostException. */
  List<InetAddress> resolve(String name) throws UnknownHostException;

  /** The system resolver behind {@code fixed} (name to addresses). */
  static HostResolver system(Map<String, List<InetAddress>> fixed) {
    Map<String, List<InetAddress>> names = Map.copyOf(fixed);
    return name -> {
      List<InetAddress> pinned = names.get(name);
      if (pinned != null) {
        return pinned;
      }
      return Arrays.asList(InetAddress.getAllByName(name));
    };
  }
}
