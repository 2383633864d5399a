package dev.paddock.runtime.cli;

import dev.paddock.ipc.v1.BudgetUsage;
import dev.paddock.ipc.v1.GetTenantUsageRequest;
import dev.paddock.ipc.v1.TenantUsage;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code paddock usage}: the caller's tenant's usage against its budgets (GetTenantUsage). */
@Command(name = "usage", mixinStandardHelpOptions = true,
    description = {"Shows your tenant's budgets and what it uses of them now: BUDGET, LIMIT (0 = none), USED, ENFORCED BY.",
        "With --json: the TenantUsage message."})
final class UsageCommand extends ClientCommand {
  @Option(names = "--tenant", paramLabel = "TENANT", description = "Another tenant (needs a key with the admin scope).")
  String tenant;

  @Override
  int run(Client client) {
    TenantUsage usage = client.tenants().getTenantUsage(GetTenantUsageRequest.newBuilder()
        .setTenantId(tenant == null ? "" : tenant).build());
    Output out = client.out();
    if (out.json()) {
      out.json(usage);
      return 0;
    }
    List<List<String>> rows = new ArrayList<>();
    for (BudgetUsage b : usage.getBudgetsList()) {
      boolean bytes = b.getName().endsWith("_bytes");
      rows.add(List.of(b.getName(), b.getLimit() == 0 ? "-" : bytes ? Units.formatBytes(b.getLimit()) : Long.toString(b.getLimit()),
          bytes ? Units.formatBytes(b.getUsed()) : Long.toString(b.getUsed()), b.getEnforcedBy()));
    }
    out.line("tenant " + usage.getTenantId());
    out.table(List.of("BUDGET", "LIMIT", "USED", "ENFORCED BY"), rows);
    var egress = usage.getEgress();
    StringBuilder denied = new StringBuilder();
    egress.getDeniedList().forEach(d -> denied.append(denied.length() == 0 ? "" : ", ").append(d.getReason().toLowerCase(java.util.Locale.ROOT))
        .append(' ').append(d.getCount()));
    out.line("egress since the host started: " + egress.getAllowed() + " allowed, "
        + egress.getDeniedList().stream().mapToLong(dev.paddock.ipc.v1.DenialCount::getCount).sum() + " denied"
        + (denied.length() == 0 ? "" : " (" + denied + ")") + "; " + Units.formatBytes(egress.getBytesOut()) + " out, "
        + Units.formatBytes(egress.getBytesIn()) + " in");
    return 0;
  }
}
