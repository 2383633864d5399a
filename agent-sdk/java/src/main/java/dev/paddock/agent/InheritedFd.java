package dev.paddock.agent;

import java.io.FileDescriptor;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Turns a descriptor number inherited from the parent process (the IPC socket, fd 3) into a
 * {@link FileDescriptor} that {@code FileInputStream} and {@code FileOutputStream} can use.
 *
 * <p>Why a hack: the JDK has no public way to adopt an inherited descriptor. {@code
 * System.inheritedChannel()} only looks at fd 0 (inetd style); opening {@code /proc/self/fd/3}
 * fails for a socket (ENXIO); the {@code FileDescriptor} constructor that takes a number is
 * private, and so is its {@code fd} field. So this class makes an empty {@code FileDescriptor} and
 * sets that field: first with plain reflection, which works when java.base opens java.io to us
 * ({@code --add-opens java.base/java.io=ALL-UNNAMED}); otherwise, the default on JDK 17, with
 * {@code sun.misc.Unsafe} from the module jdk.unsupported, which every JDK 17 has and which needs
 * no flag. The streams then call read(2) and write(2) on the number, which is all a stream socket
 * needs. Nothing else in the SDK depends on internals.
 *
 * <p>Before that, it checks via {@code /proc/self/fd} (when /proc is mounted) that the number is
 * open and is a socket: if the exec was started without IPC, the JVM itself may have opened some
 * file of its own at that number, and writing frames into it would be wrong.
 */
final class InheritedFd {
  /** How the last {@link #adopt} set the field: "reflection" or "unsafe" (for tests and logs). */
  static volatile String lastMethod = "";

  private InheritedFd() {}

  /**
   * A {@code FileDescriptor} for an inherited socket descriptor. The caller owns it: closing a
   * stream made on it closes the descriptor.
   *
   * @param fd the descriptor number, 0 or more
   * @throws NoChannelException if the number is not an open socket, or cannot be adopted
   */
  static FileDescriptor adopt(int fd) {
    checkSocket(fd);
    FileDescriptor descriptor = new FileDescriptor();
    Field field;
    try {
      field = FileDescriptor.class.getDeclaredField("fd");
    } catch (NoSuchFieldException e) {
      throw new NoChannelException("this JVM's java.io.FileDescriptor has no fd field", e);
    }
    try {
      field.setAccessible(true);
      field.setInt(descriptor, fd);
      lastMethod = "reflection";
      return descriptor;
    } catch (RuntimeException | IllegalAccessException e) {
      // InaccessibleObjectException: java.base does not open java.io to us. Use Unsafe instead.
    }
    try {
      Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
      Field theUnsafe = unsafeClass.getDeclaredField("theUnsafe");
      theUnsafe.setAccessible(true);
      Object unsafe = theUnsafe.get(null);
      Method objectFieldOffset = unsafeClass.getMethod("objectFieldOffset", Field.class);
      Method putInt = unsafeClass.getMethod("putInt", Object.class, long.class, int.class);
      long offset = (long) objectFieldOffset.invoke(unsafe, field);
      putInt.invoke(unsafe, descriptor, offset, fd);
      lastMethod = "unsafe";
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new NoChannelException(
          "cannot adopt inherited fd " + fd + ": java.base does not open java.io and "
              + "sun.misc.Unsafe is not usable (run with --add-opens java.base/java.io=ALL-UNNAMED)",
          e);
    }
    if (!descriptor.valid()) {
      throw new NoChannelException("adopting inherited fd " + fd + " had no effect", null);
    }
    return descriptor;
  }

  /**
   * Checks that {@code fd} is an open socket, when /proc tells; without /proc it assumes so.
   *
   * @throws NoChannelException if it is negative, not open, or not a socket
   */
  static void checkSocket(int fd) {
    if (fd < 0) {
      throw new NoChannelException("PADDOCK_IPC_FD is " + fd + ", not a descriptor number: "
          + Agent.START_WITH_IPC, null);
    }
    Path fds = Path.of("/proc/self/fd");
    if (!Files.isDirectory(fds)) {
      return;
    }
    String target;
    try {
      target = Files.readSymbolicLink(fds.resolve(Integer.toString(fd))).toString();
    } catch (IOException | UnsupportedOperationException e) {
      throw new NoChannelException("fd " + fd + " (PADDOCK_IPC_FD) is not open: " + Agent.START_WITH_IPC, e);
    }
    if (!target.startsWith("socket:")) {
      throw new NoChannelException("fd " + fd + " (PADDOCK_IPC_FD) is not a socket but " + target + ": "
          + Agent.START_WITH_IPC, null);
    }
  }
}
