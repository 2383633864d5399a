package dev.paddock.runtime.session;

import dev.paddock.runtime.tenant.Tenant;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What admission costs per call: the checks SessionManager makes before an exec or a session does
 * any work, with a tenant that has rates (so the rate limiter is asked): a permit from the
 * tenant's exec and session rate limiters (resilience4j) and the counts of its open sessions and
 * running execs. Next to {@code AuthOverheadBench}, which measures authentication and the scope
 * check the same way.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class AdmissionBench {
  private final TenantRates rates = new TenantRates();
  private final Tenant tenant = BenchJails.tenantWithRates();
  private final java.util.concurrent.atomic.AtomicInteger running = new java.util.concurrent.atomic.AtomicInteger();

  /** An exec's admission: its rate permit and the running-exec count (taken and given back). */
  @Benchmark
  public int execAdmission() {
    rates.admitExec(tenant);
    int n = running.incrementAndGet();
    running.decrementAndGet();
    return n;
  }

  /** A session's admission: its rate permit. */
  @Benchmark
  public void sessionAdmission() {
    rates.admitSession(tenant);
  }
}
