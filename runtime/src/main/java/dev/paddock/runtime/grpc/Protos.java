package dev.paddock.runtime.grpc;

import com.google.protobuf.Timestamp;
import dev.paddock.ipc.v1.CreateSessionRequest;
import dev.paddock.ipc.v1.ExecRequest;
import dev.paddock.ipc.v1.ExecResult;
import dev.paddock.ipc.v1.ExecStatus;
import dev.paddock.ipc.v1.ResourceLimits;
import dev.paddock.ipc.v1.ResourceUsage;
import dev.paddock.ipc.v1.Session;
import dev.paddock.ipc.v1.SessionCloseReason;
import dev.paddock.ipc.v1.SessionState;
import dev.paddock.policy.Limits;
import dev.paddock.runtime.errors.PaddockException;
import dev.paddock.ipc.v1.ExecEvent;
import dev.paddock.ipc.v1.IpcViolation;
import dev.paddock.ipc.v1.ToolArtifact;
import dev.paddock.ipc.v1.ToolProgress;
import dev.paddock.runtime.ipc.ArtifactMeta;
import dev.paddock.runtime.ipc.IpcSummary;
import dev.paddock.runtime.session.ExecRecord;
import dev.paddock.runtime.session.ExecSpec;
import dev.paddock.runtime.session.ToolEvent;
import dev.paddock.runtime.session.SessionSpec;
import dev.paddock.sandbox.SandboxResult;
import java.time.Duration;
import java.time.Instant;

/** Conversions between the wire messages and the domain. */
final class Protos {
  /** protobuf's own bounds for Duration: ±10,000 years. */

  private Protos() {}

  static SessionSpec fromProto(CreateSessionRequest req) {
    ResourceLimits l = req.getLimits();
    return new SessionSpec(
        req.hasIdleTimeout() ? duration("idle_timeout", req.getIdleTimeout()) : null,
        req.hasMaxLifetime() ? duration("max_lifetime", req.getMaxLifetime()) : null,
        l.getMemoryBytes() < 0 ? Long.MAX_VALUE : l.getMemoryBytes(),
        Integer.toUnsignedLong(l.getMaxProcesses()),
        Integer.toUnsignedLong(l.getCpuMillicores()),
        l.getTmpfsBytes() < 0 ? Long.MAX_VALUE : l.getTmpfsBytes(),
        l.getMaxFileBytes() < 0 ? Long.MAX_VALUE : l.getMaxFileBytes(),
        Integer.toUnsignedLong(l.getMaxOpenFiles()),
        l.getWorkspaceBytes() < 0 ? Long.MAX_VALUE : l.getWorkspaceBytes(),
        l.getWorkspaceInodes() < 0 ? Long.MAX_VALUE : l.getWorkspaceInodes(),
        req.getLabelsMap(), req.getEnvMap(), req.getPolicy(), egress(req), req.getHeaderSecretsList());
  }

  /** CreateSessionRequest.egress, parsed; a bad entry is INVALID_ARGUMENT naming it. */
  private static dev.paddock.runtime.egress.EgressRules egress(CreateSessionRequest req) {
    try {
      return dev.paddock.runtime.egress.EgressRules.parse(req.getEgress().getAllowList(), req.getEgress().getDenyList(), "egress");
    } catch (IllegalArgumentException e) {
      String message = e.getMessage();
      int colon = message.indexOf(": ");
      throw new PaddockException.InvalidArgument(colon < 0 ? "egress" : message.substring(0, colon),
          colon < 0 ? message : message.substring(colon + 2));
    }
  }

  static ExecSpec fromProto(ExecRequest req) {
    return new ExecSpec(req.getArgvList(), req.getEnvMap(), req.getCwd(), req.getStdin().toByteArray(),
        req.hasTimeLimit() ? duration("time_limit", req.getTimeLimit()) : null,
        req.hasCpuTimeLimit() ? duration("cpu_time_limit", req.getCpuTimeLimit()) : null,
        req.getKeepStdinOpen(), req.getIpc(), secretEnv(req));
  }

  /** ExecRequest.secret_env as variable name to secret name; a variable given twice is refused. */
  private static java.util.Map<String, String> secretEnv(ExecRequest req) {
    java.util.Map<String, String> out = new java.util.LinkedHashMap<>();
    for (dev.paddock.ipc.v1.SecretEnv binding : req.getSecretEnvList()) {
      if (out.put(binding.getEnv(), binding.getSecret()) != null) {
        throw new PaddockException.InvalidArgument("secret_env", "variable " + binding.getEnv() + " is given twice");
      }
    }
    return out;
  }

  /** An exec's state; {@code census} (when the supervisor answered) gives its live processes. */
  static dev.paddock.ipc.v1.ExecInfo toProto(dev.paddock.runtime.session.ExecRecord r,
      java.util.Optional<dev.paddock.sandbox.jail.JailCensus> census) {
    dev.paddock.ipc.v1.ExecInfo.Builder b = dev.paddock.ipc.v1.ExecInfo.newBuilder()
        .setExecId(r.id())
        .setSessionId(r.sessionId())
        .addAllArgv(r.argv())
        .setCwd(r.cwd())
        .setStartTime(toProto(r.startTime()))
        .setStdinOpen(r.stdinOpen())
        .setStdoutBytes(r.stdoutBytes())
        .setStderrBytes(r.stderrBytes())
        .setLiveProcesses(census.map(c -> c.byExec().getOrDefault(r.jailNumber(), 0)).orElse(0));
    r.artifacts().forEach(a -> b.addArtifacts(toProto(a, -1, null)));
    java.util.concurrent.CompletableFuture<dev.paddock.runtime.session.ExecRecord.Outcome> outcome = r.outcome();
    if (outcome.isDone() && !outcome.isCompletedExceptionally()) {
      dev.paddock.runtime.session.ExecRecord.Outcome o = outcome.join();
      b.setState(dev.paddock.ipc.v1.ExecState.EXEC_STATE_FINISHED)
          .setEndTime(toProto(r.endTime()))
          .setResult(toProto(o));
    } else {
      b.setState(dev.paddock.ipc.v1.ExecState.EXEC_STATE_RUNNING);
    }
    return b.build();
  }

  static Duration duration(String field, com.google.protobuf.Duration d) {
    if (!com.google.protobuf.util.Durations.isValid(d)) {
      throw new PaddockException.InvalidArgument(field, "is not a valid google.protobuf.Duration");
    }
    return Duration.ofSeconds(d.getSeconds(), d.getNanos());
  }

  static com.google.protobuf.Duration toProto(Duration d) {
    return com.google.protobuf.Duration.newBuilder().setSeconds(d.getSeconds()).setNanos(d.getNano()).build();
  }

  static Timestamp toProto(Instant t) {
    return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
  }

  static Session toProto(dev.paddock.runtime.session.Session s) {
    Limits l = s.policy().limits();
    Session.Builder b = Session.newBuilder()
        .setSessionId(s.id())
        .setCreateTime(toProto(s.createTime()))
        .setExpireTime(toProto(s.expireTime()))
        .setIdleTimeout(toProto(s.idleTimeout()))
        .setLimits(ResourceLimits.newBuilder()
            .setMemoryBytes(l.memoryBytes())
            .setMaxProcesses(l.maxProcesses())
            .setCpuMillicores(l.cpuMillicores())
            .setTmpfsBytes(l.tmpfsBytes())
            .setMaxFileBytes(l.maxFileBytes())
            .setMaxOpenFiles(l.maxOpenFiles())
            .setWorkspaceBytes(s.workspace().bytes())
            .setWorkspaceInodes(s.workspace().inodes()))
        .putAllLabels(s.labels())
        .setPolicy(s.policyName());
    if (s.state() == dev.paddock.runtime.session.Session.State.ACTIVE) {
      b.setState(SessionState.SESSION_STATE_ACTIVE).setIdleDeadline(toProto(s.idleDeadline()));
    } else {
      b.setState(SessionState.SESSION_STATE_CLOSED).setCloseTime(toProto(s.closeTime()))
          .setCloseReason(switch (s.closeReason()) {
            case CLIENT -> SessionCloseReason.SESSION_CLOSE_REASON_CLIENT;
            case IDLE_TIMEOUT -> SessionCloseReason.SESSION_CLOSE_REASON_IDLE_TIMEOUT;
            case MAX_LIFETIME -> SessionCloseReason.SESSION_CLOSE_REASON_MAX_LIFETIME;
            case HOST_SHUTDOWN -> SessionCloseReason.SESSION_CLOSE_REASON_HOST_SHUTDOWN;
            case SANDBOX_FAILED -> SessionCloseReason.SESSION_CLOSE_REASON_SANDBOX_FAILED;
          });
    }
    return b.build();
  }

  /**
   * How an exec ended. A fatal IPC violation decides the status, whatever the process did after the
   * host killed it (or before: a truncated frame is seen when the tool has already exited).
   */
  static ExecResult toProto(ExecRecord.Outcome o) {
    ExecResult.Builder b = toProto(o.result(), o.stdoutBytes(), o.stderrBytes(), o.truncated()).toBuilder();
    IpcSummary ipc = o.ipc();
    if (ipc != null) {
      dev.paddock.ipc.v1.IpcSummary.Builder summary = dev.paddock.ipc.v1.IpcSummary.newBuilder().setRequests(ipc.requests())
          .setRejected(ipc.rejected()).setPeakBufferedBytes(ipc.peakBufferedBytes());
      if (ipc.violation() != null) {
        summary.setViolation(IpcViolation.newBuilder().setKind(ipc.violation()).setDetail(ipc.violationDetail()));
      }
      b.setIpc(summary);
      if (ipc.fatal()) {
        b.setStatus(ExecStatus.EXEC_STATUS_IPC_VIOLATION).setExitCode(0)
            .setReason("IPC protocol violation: " + ipc.violationDetail()).setViolationSyscall("");
      }
    }
    return b.build();
  }

  /** A tool event as the planner sees it. */
  static ExecEvent toProto(ToolEvent event) {
    ExecEvent.Builder e = ExecEvent.newBuilder();
    if (event instanceof ToolEvent.Progress p) {
      ToolProgress.Builder progress = ToolProgress.newBuilder().setMessage(p.message()).setSequence(p.sequence())
          .setTime(toProto(p.time()));
      p.fraction().ifPresent(progress::setFraction);
      e.setProgress(progress);
    } else if (event instanceof ToolEvent.Artifact a) {
      e.setArtifact(toProto(a.artifact(), a.sequence(), a.time()));
    } else if (event instanceof ToolEvent.EgressDenied d) {
      e.setEgressDenied(dev.paddock.ipc.v1.EgressDenied.newBuilder().setHost(d.host()).setPort(d.port())
          .setAddress(d.address()).setReason(dev.paddock.ipc.v1.EgressDenyReason.valueOf("EGRESS_DENY_REASON_" + d.reason()))
          .setDetail(d.detail()).setProtocol(d.protocol()).setSequence(d.sequence()).setTime(toProto(d.time())));
    }
    return e.build();
  }

  /** An artifact's description; {@code sequence} -1 and {@code time} null leave those unset. */
  static ToolArtifact toProto(ArtifactMeta a, long sequence, Instant time) {
    ToolArtifact.Builder b = ToolArtifact.newBuilder().setName(a.name()).setSizeBytes(a.sizeBytes())
        .setSha256(a.sha256()).setContentType(a.contentType());
    if (sequence >= 0) {
      b.setSequence(sequence);
    }
    if (time != null) {
      b.setTime(toProto(time));
    }
    return b.build();
  }

  private static ExecResult toProto(SandboxResult r, long stdoutBytes, long stderrBytes, boolean truncated) {
    boolean hasExitCode = r.status() == SandboxResult.Status.OK || r.status() == SandboxResult.Status.PIDS_EXHAUSTED;
    return ExecResult.newBuilder()
        .setStatus(switch (r.status()) {
          case OK -> ExecStatus.EXEC_STATUS_OK;
          case TIMEOUT -> ExecStatus.EXEC_STATUS_TIMEOUT;
          case OOM -> ExecStatus.EXEC_STATUS_OOM;
          case PIDS_EXHAUSTED -> ExecStatus.EXEC_STATUS_PIDS_EXHAUSTED;
          case VIOLATION -> ExecStatus.EXEC_STATUS_VIOLATION;
          case SIGNALED -> ExecStatus.EXEC_STATUS_SIGNALED;
          case KILLED -> ExecStatus.EXEC_STATUS_KILLED;
          case SETUP_ERROR -> ExecStatus.EXEC_STATUS_SETUP_ERROR;
          case INTERNAL_ERROR -> ExecStatus.EXEC_STATUS_INTERNAL_ERROR;
        })
        .setExitCode(hasExitCode ? r.exitCode() : 0)
        .setSignal(r.signal())
        .setViolationSyscall(r.violationSyscall())
        .setReason(r.status() == SandboxResult.Status.OK ? "" : r.reason())
        .setOutputTruncated(truncated)
        .setUsage(ResourceUsage.newBuilder()
            .setWallTime(toProto(r.usage().wallTime()))
            .setCpuUser(toProto(r.usage().cpuUser()))
            .setCpuSystem(toProto(r.usage().cpuSystem()))
            .setPeakMemoryBytes(r.usage().peakMemoryBytes())
            .setStdoutBytes(stdoutBytes)
            .setStderrBytes(stderrBytes))
        .build();
  }
}
