package dev.paddock.runtime.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** How the host makes jails: the options paddock serve and paddock doctor share (a picocli mixin). */
final class JailOptions {
  @Option(names = "--nsjail", description = "nsjail binary. Default: $PADDOCK_NSJAIL, else .paddock/tools/nsjail/nsjail/bin/nsjail.")
  Path nsjail;

  @Option(names = "--python-protobuf", defaultValue = "${env:PADDOCK_PYTHON_PROTOBUF:-.paddock/tools/python-protobuf}",
      description = "Python protobuf runtime (7.x) mounted into every jail for the Python agent SDK"
          + " (scripts/setup installs it). Default: ${DEFAULT-VALUE}.")
  Path pythonProtobuf;

  @Option(names = "--sandbox-uid", defaultValue = "99999", description = "Host uid sandboxed processes run as (not 0). Default: ${DEFAULT-VALUE}.")
  int sandboxUid;

  @Option(names = "--sandbox-gid", defaultValue = "99999", description = "Host gid sandboxed processes run as (not 0). Default: ${DEFAULT-VALUE}.")
  int sandboxGid;

  @Option(names = "--cgroup-root", defaultValue = "/sys/fs/cgroup", description = "cgroup mount (v1 or v2). Default: ${DEFAULT-VALUE}.")
  Path cgroupRoot;

  /** --nsjail, else $PADDOCK_NSJAIL, else the project-local install. */
  Path nsjailBinary() {
    return ServeCommand.nsjailPath(nsjail);
  }
}
