package dev.paddock.sandbox.fs;

import java.util.List;

/**
 * The result of {@link WorkspaceFiles#list}: entries in path order, and whether the walk stopped
 * early.
 *
 * @param entries the entries, in path order (see {@link WorkspaceFiles#list})
 * @param truncated true when more entries exist than were returned: {@code maxEntries} was reached,
 *     the depth was capped below the depth asked for, or the scan budget ran out
 */
public record Listing(List<FileStat> entries, boolean truncated) {
  public Listing {
    entries = List.copyOf(entries);
  }
}
