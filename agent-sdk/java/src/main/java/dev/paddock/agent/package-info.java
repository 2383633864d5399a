/** The Java agent SDK: typed IPC from a JVM tool inside a Paddock jail to the host (fd 3). */
package dev.paddock.agent;
