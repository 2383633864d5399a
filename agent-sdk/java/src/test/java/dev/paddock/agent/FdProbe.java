package dev.paddock.agent;

/**
 * Run by {@link FdPathTest} in a child JVM whose fd 3 is a real socket: connects the way a tool
 * does, pings, reports progress, measures the round trip, and prints what happened.
 */
public final class FdProbe {
  private FdProbe() {}

  /**
   * Entry point.
   *
   * @param args the number of timed pings (default 1000)
   */
  public static void main(String[] args) {
    int pings = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
    try (Agent agent = Agent.connect()) {
      System.out.println("probe: adopted by " + InheritedFd.lastMethod);
      agent.ping();
      System.out.println("probe: ping ok");
      System.out.println("probe: sequence=" + agent.progress("hello from java", 0.25));
      long start = System.nanoTime();
      for (int i = 0; i < pings; i++) {
        agent.ping();
      }
      long micros = (System.nanoTime() - start) / 1000;
      System.out.println("probe: " + pings + " pings, " + (pings == 0 ? 0 : micros / pings) + " us per round trip");
    }
    System.out.println("probe: closed");
  }
}
