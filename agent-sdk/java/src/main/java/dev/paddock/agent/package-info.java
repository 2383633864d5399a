/**
 * The Java agent SDK: typed IPC from a JVM tool inside a Paddock jail to the host.
 *
 * <p>An exec started with {@code ExecRequest.ipc = true} inherits one end of a socket as fd 3
 * ({@code PADDOCK_IPC_FD=3}); {@link dev.paddock.agent.Agent#connect()} adopts it and speaks the
 * protocol of {@code paddock/ipc/v1/ipc.proto} over it: progress events and artifacts for the
 * planner, workspace files, the session's scratch key-value state and host-side tools. Failures are
 * unchecked {@link dev.paddock.agent.AgentException}s, one subclass per reason.
 *
 * <p>Inside a jail the SDK is on {@code /opt/paddock/java/paddock-agent.jar} ({@code
 * PADDOCK_AGENT_JAR}), which also holds its only dependencies: protobuf-java and the generated
 * messages of {@code dev.paddock.ipc.agent.v1}. It needs JDK 17 or later and no JVM flags.
 */
package dev.paddock.agent;
