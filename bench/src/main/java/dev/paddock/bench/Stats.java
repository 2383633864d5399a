package dev.paddock.bench;

import java.util.Arrays;

/**
 * Summary of one series of latency samples, in nanoseconds.
 *
 * <p>Percentiles use the nearest-rank method: the p-th percentile of n sorted samples is the
 * sample at rank ceil(p/100 * n) (1-based), so it is always a value that was really measured.
 */
public record Stats(int count, long min, long p50, long p90, long p99, long max, double mean) {

  /** Summarises {@code samples} (not modified). */
  public static Stats of(long[] samples) {
    if (samples.length == 0) {
      throw new IllegalArgumentException("no samples");
    }
    long[] sorted = samples.clone();
    Arrays.sort(sorted);
    double sum = 0;
    for (long s : sorted) {
      sum += s;
    }
    return new Stats(sorted.length, sorted[0], percentile(sorted, 50), percentile(sorted, 90),
        percentile(sorted, 99), sorted[sorted.length - 1], sum / sorted.length);
  }

  /** Nearest-rank percentile of already sorted samples; 0 < p <= 100. */
  static long percentile(long[] sorted, double p) {
    if (sorted.length == 0 || p <= 0 || p > 100) {
      throw new IllegalArgumentException("need samples and 0 < p <= 100");
    }
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.max(1, rank) - 1];
  }
}
