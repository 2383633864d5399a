package dev.paddock.runtime.grpc;

import dev.paddock.ipc.v1.FileInfo;
import dev.paddock.sandbox.fs.FileStat;

/** Conversions between FileService's wire messages and the workspace domain. */
final class FileProtos {
  private FileProtos() {}

  static FileInfo toProto(FileStat s) {
    return FileInfo.newBuilder()
        .setPath(s.path())
        .setName(s.name())
        .setSizeBytes(s.sizeBytes())
        .setMode(s.mode())
        .setIsDir(s.isDirectory())
        .setIsSymlink(s.isSymlink())
        .setSymlinkTarget(s.symlinkTarget())
        .setModifyTime(Protos.toProto(s.modifyTime()))
        .build();
  }

  /** A uint32 field as a non-negative long. */
  static long unsigned(int value) {
    return Integer.toUnsignedLong(value);
  }
}
