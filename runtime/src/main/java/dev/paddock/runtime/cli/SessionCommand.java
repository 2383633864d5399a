package dev.paddock.runtime.cli;

import dev.paddock.ipc.v1.CloseSessionRequest;
import dev.paddock.ipc.v1.CloseSessionResponse;
import dev.paddock.ipc.v1.CreateSessionRequest;
import dev.paddock.ipc.v1.GetSessionRequest;
import dev.paddock.ipc.v1.ListSessionsRequest;
import dev.paddock.ipc.v1.ResourceLimits;
import dev.paddock.ipc.v1.Session;
import dev.paddock.ipc.v1.SessionCloseReason;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code paddock session create | list | get | close}: sessions of the key's tenant. */
@Command(name = "session", mixinStandardHelpOptions = true,
    description = "Creates, lists, shows and closes sessions (a session is one task's sandbox: a workspace, limits, a lifetime).",
    subcommands = {SessionCommand.Create.class, SessionCommand.ListSessions.class, SessionCommand.Get.class,
        SessionCommand.Close.class})
final class SessionCommand implements Runnable {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  /** Limits and egress of a new session (a mixin: {@code session create} and {@code exec} share it). */
  static final class LimitsOptions {
    @Option(names = "--memory", paramLabel = "SIZE", converter = Units.Bytes.class,
        description = "Memory limit of each exec of a new session: bytes, or with a binary unit (256M = 256 MiB, 1G, 512Ki, 1.5G). "
            + "Default: the host's (512 MiB).")
    Long memoryBytes;

    @Option(names = "--processes", paramLabel = "N",
        description = "Maximum processes and threads of each exec. Default: the host's (64).")
    Integer maxProcesses;

    @Option(names = "--cpu", paramLabel = "CORES", converter = Units.Millicores.class,
        description = "CPU rate limit of each exec, in cores (0.5, 2) or millicores (500m). Default: the host's (1 core).")
    Integer cpuMillicores;

    @Option(names = "--tmpfs", paramLabel = "SIZE", converter = Units.Bytes.class,
        description = "Size of each exec's private /tmp, like --memory (64M). Default: the host's (64 MiB).")
    Long tmpfsBytes;

    @Option(names = "--allow", paramLabel = "HOST[:PORTS]",
        description = "Narrow the tenant's egress allow-list to these destinations (repeatable; e.g. pypi.org:443,"
            + " *.github.com). Default: the tenant's list alone.")
    java.util.List<String> allow = new java.util.ArrayList<>();

    @Option(names = "--deny", paramLabel = "HOST[:PORTS]", description = "Add to the tenant's egress deny-list (repeatable).")
    java.util.List<String> deny = new java.util.ArrayList<>();

    @Option(names = "--header-secret", paramLabel = "NAME",
        description = "A secret the egress proxy adds as a request header where the tenant's settings bind it (repeatable).")
    java.util.List<String> headerSecrets = new java.util.ArrayList<>();

    /** True when any limit was given. */
    boolean any() {
      return memoryBytes != null || maxProcesses != null || cpuMillicores != null || tmpfsBytes != null
          || !allow.isEmpty() || !deny.isEmpty() || !headerSecrets.isEmpty();
    }

    /** Sets the given limits and egress on {@code request} (unset limits stay 0: the host's default). */
    CreateSessionRequest.Builder applyTo(CreateSessionRequest.Builder request) {
      if (memoryBytes != null || maxProcesses != null || cpuMillicores != null || tmpfsBytes != null) {
        ResourceLimits.Builder limits = ResourceLimits.newBuilder();
        if (memoryBytes != null) {
          limits.setMemoryBytes(memoryBytes);
        }
        if (maxProcesses != null) {
          limits.setMaxProcesses(maxProcesses);
        }
        if (cpuMillicores != null) {
          limits.setCpuMillicores(cpuMillicores);
        }
        if (tmpfsBytes != null) {
          limits.setTmpfsBytes(tmpfsBytes);
        }
        request.setLimits(limits);
      }
      if (!allow.isEmpty() || !deny.isEmpty()) {
        request.setEgress(dev.paddock.ipc.v1.EgressRules.newBuilder().addAllAllow(allow).addAllDeny(deny));
      }
      return request.addAllHeaderSecrets(headerSecrets);
    }
  }

  /** {@code paddock session create}. */
  @Command(name = "create", mixinStandardHelpOptions = true, sortOptions = false,
      description = {"Creates a session and prints its id (with --json: the Session).",
          "Limits apply to each exec of the session; unset ones take the host's defaults."})
  static final class Create extends ClientCommand {
    @picocli.CommandLine.Mixin LimitsOptions limits;

    @Option(names = "--idle-timeout", paramLabel = "DURATION",
        description = "Close the session after this long without activity (30s, 5m, 1h30m; plain number = seconds). Default: the host's (5m).")
    Duration idleTimeout;

    @Option(names = "--max-lifetime", paramLabel = "DURATION",
        description = "Close the session this long after creation, whatever the activity (1h, 90m). Default: the host's (1h).")
    Duration maxLifetime;

    @Option(names = "--label", paramLabel = "KEY=VALUE", description = "A label for your own bookkeeping (repeatable). Not for secrets.")
    Map<String, String> labels = new TreeMap<>();

    @Option(names = {"-e", "--env"}, paramLabel = "NAME=VALUE",
        description = "A default environment variable of every exec of the session (repeatable; never returned or logged).")
    Map<String, String> env = new TreeMap<>();

    @Option(names = "--policy", paramLabel = "NAME", defaultValue = "",
        description = "Sandbox policy. Default: the tenant's default policy.")
    String policy;

    @Override
    int run(Client client) {
      CreateSessionRequest.Builder request = limits.applyTo(CreateSessionRequest.newBuilder())
          .putAllLabels(labels).putAllEnv(env).setPolicy(policy);
      if (idleTimeout != null) {
        request.setIdleTimeout(Durations.toProto(idleTimeout));
      }
      if (maxLifetime != null) {
        request.setMaxLifetime(Durations.toProto(maxLifetime));
      }
      Session session = client.sessions().createSession(request.build());
      if (client.out().json()) {
        client.out().json(session);
      } else {
        client.out().line(session.getSessionId());
      }
      return 0;
    }
  }

  /** {@code paddock session list}. */
  @Command(name = "list", mixinStandardHelpOptions = true,
      description = "Lists the sessions of your tenant (active, and closed ones still retained), oldest first (with --json: one Session per line).")
  static final class ListSessions extends ClientCommand {
    @Option(names = "--label", paramLabel = "KEY=VALUE", description = "Only sessions with this label (repeatable: all must match).")
    Map<String, String> labels = new TreeMap<>();

    @Override
    int run(Client client) {
      List<List<String>> rows = new ArrayList<>();
      Client.allPages(
          token -> client.sessions().listSessions(ListSessionsRequest.newBuilder().setPageToken(token).putAllLabelSelector(labels).build()),
          page -> page.getNextPageToken(),
          page -> {
            for (Session s : page.getSessionsList()) {
              if (client.out().json()) {
                client.out().json(s);
              } else {
                rows.add(List.of(s.getSessionId(), state(s), Output.time(s.hasCreateTime(), s.getCreateTime()),
                    Output.time(s.hasExpireTime(), s.getExpireTime()), labels(s)));
              }
            }
          });
      if (!client.out().json()) {
        client.out().table(List.of("SESSION ID", "STATE", "CREATED", "EXPIRES", "LABELS"), rows);
      }
      return 0;
    }
  }

  /** {@code paddock session get}. */
  @Command(name = "get", mixinStandardHelpOptions = true, description = "Shows one session (with --json: the Session).")
  static final class Get extends ClientCommand {
    @Parameters(paramLabel = "SESSION", description = "Session id.")
    String sessionId;

    @Override
    int run(Client client) {
      Session s = client.sessions().getSession(GetSessionRequest.newBuilder().setSessionId(sessionId).build());
      Output out = client.out();
      if (out.json()) {
        out.json(s);
        return 0;
      }
      ResourceLimits l = s.getLimits();
      List<List<String>> rows = new ArrayList<>();
      rows.add(List.of("Session:", s.getSessionId()));
      rows.add(List.of("State:", state(s)));
      rows.add(List.of("Policy:", s.getPolicy()));
      rows.add(List.of("Created:", Output.time(s.hasCreateTime(), s.getCreateTime())));
      rows.add(List.of("Idle timeout:", (s.hasIdleTimeout() ? Durations.format(Durations.fromProto(s.getIdleTimeout())) : "-")
          + (s.hasIdleDeadline() ? " (closes if idle at " + Output.time(true, s.getIdleDeadline()) + ")" : "")));
      rows.add(List.of("Expires:", Output.time(s.hasExpireTime(), s.getExpireTime())));
      rows.add(List.of("Limits:", "memory " + Units.formatBytes(l.getMemoryBytes()) + ", processes " + l.getMaxProcesses()
          + ", cpu " + Units.formatMillicores(l.getCpuMillicores()) + ", /tmp " + Units.formatBytes(l.getTmpfsBytes())
          + ", file size " + Units.formatBytes(l.getMaxFileBytes()) + ", open files " + l.getMaxOpenFiles()));
      rows.add(List.of("Labels:", labels(s)));
      if (s.hasCloseTime()) {
        rows.add(List.of("Closed:", Output.time(true, s.getCloseTime())
            + (s.getCloseReason() == SessionCloseReason.SESSION_CLOSE_REASON_UNSPECIFIED ? ""
                : " (" + Output.shortName(s.getCloseReason(), "SESSION_CLOSE_REASON_") + ")")));
      }
      out.rows(rows);
      return 0;
    }
  }

  /** {@code paddock session close}. */
  @Command(name = "close", mixinStandardHelpOptions = true,
      description = {"Closes a session: kills its running execs and deletes its workspace. Closing a closed session succeeds.",
          "Prints nothing (with --json: the empty CloseSessionResponse, {})."})
  static final class Close extends ClientCommand {
    @Parameters(paramLabel = "SESSION", description = "Session id.")
    String sessionId;

    @Override
    int run(Client client) {
      CloseSessionResponse response = client.sessions().closeSession(CloseSessionRequest.newBuilder().setSessionId(sessionId).build());
      if (client.out().json()) {
        client.out().json(response);
      }
      return 0;
    }
  }

  private static String state(Session s) {
    return Output.shortName(s.getState(), "SESSION_STATE_");
  }

  private static String labels(Session s) {
    if (s.getLabelsCount() == 0) {
      return "-";
    }
    return new TreeMap<>(s.getLabelsMap()).entrySet().stream()
        .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(","));
  }
}
