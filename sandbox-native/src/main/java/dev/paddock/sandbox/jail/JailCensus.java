package dev.paddock.sandbox.jail;

import java.util.Map;

/**
 * Live processes of a session jail other than its supervisor, as paddock-init counted them (the
 * tenant's own processes, so only as trustworthy as the tenant's own session).
 *
 * @param byExec   live processes per exec number, counting those an exec left behind after its
 *                 main process ended (background children still in its process session)
 * @param detached processes that left every exec's process session (setsid()); they run until
 *                 the session closes and count against its limits
 */
public record JailCensus(Map<Long, Integer> byExec, int detached) {
  public JailCensus {
    byExec = Map.copyOf(byExec);
  }
}
