package io.seqpack.job;

import io.seqpack.ConfigException;
import io.seqpack.SeqpackException;
import io.seqpack.util.JsonRecords;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One incremental run at a time per checkpoint: {@code <checkpoint>/seqpack.lock}, created exclusively (the file
 * system's create-if-absent), holds the owner's host, pid and start time. A second run refuses at once, naming
 * the owner, or waits up to {@code --wait-for-lock} seconds. A lock whose owner ran on this host and whose process
 * is gone (killed) is stale: it is taken over with a warning. Owners on other hosts cannot be checked; their
 * lock is only released by them (or by deleting the file once sure the run is gone).
 */
final class CheckpointLock implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(CheckpointLock.class);
  static final String FILE = "seqpack.lock";

  /** The lock file's contents; {@code started} is an ISO-8601 instant. */
  record Owner(String host, long pid, String started) {}

  private final FileSystem fs;
  private final Path file;

  private CheckpointLock(FileSystem fs, Path file) {
    this.fs = fs;
    this.file = file;
  }

  static CheckpointLock acquire(Configuration hadoop, Path checkpoint, int waitSeconds) {
    Path file = new Path(checkpoint, FILE);
    long deadline = System.nanoTime() + waitSeconds * 1_000_000_000L;
    try {
      FileSystem fs = file.getFileSystem(hadoop);
      fs.mkdirs(checkpoint);
      while (true) {
        if (tryCreate(fs, file)) {
          return new CheckpointLock(fs, file);
        }
        Owner owner = readOwner(fs, file);
        if (owner != null && isStale(owner)) {
          LOG.warn("seqpack: taking over the lock of {}: the run of pid {} on {}, started {}, is gone", checkpoint,
              owner.pid(), owner.host(), owner.started());
          fs.delete(file, false);
          continue;
        }
        if (System.nanoTime() >= deadline) {
          throw new ConfigException("Cannot start an incremental run on checkpoint " + checkpoint + ": another run "
              + "holds it (" + describe(owner) + "); wait for it to finish, or pass --wait-for-lock SECONDS");
        }
        Thread.sleep(500);
      }
    } catch (IOException e) {
      throw new SeqpackException("Cannot lock checkpoint " + checkpoint + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SeqpackException("Interrupted while waiting for the lock of " + checkpoint, e);
    }
  }

  private static boolean tryCreate(FileSystem fs, Path file) throws IOException {
    Owner owner = new Owner(host(), ProcessHandle.current().pid(), Instant.now().toString());
    try (OutputStream out = fs.create(file, false)) {
      out.write(JsonRecords.writePretty(owner).getBytes(StandardCharsets.UTF_8));
      return true;
    } catch (FileAlreadyExistsException e) {
      return false;
    } catch (IOException e) {
      if (fs.exists(file)) { // some file systems report an existing file with a plain IOException
        return false;
      }
      throw e;
    }
  }

  /** The lock's owner, or null; a lock just created may not hold its text yet, so an empty read is retried. */
  private static Owner readOwner(FileSystem fs, Path file) throws InterruptedException {
    for (int attempt = 0; attempt < 20; attempt++) {
      try (InputStream in = fs.open(file)) {
        return JsonRecords.read(new String(in.readAllBytes(), StandardCharsets.UTF_8), Owner.class,
            "lock " + file, SeqpackException::new);
      } catch (java.io.FileNotFoundException e) { // just released
        return null;
      } catch (IOException | RuntimeException e) { // being written
        Thread.sleep(100);
      }
    }
    return null;
  }

  private static boolean isStale(Owner owner) {
    if (!host().equals(owner.host())) {
      return false;
    }
    return ProcessHandle.of(owner.pid()).map(p -> !p.isAlive()).orElse(true);
  }

  private static String describe(Owner owner) {
    if (owner == null) {
      return "owner unknown";
    }
    return "host " + owner.host() + ", pid " + owner.pid() + ", started " + owner.started();
  }

  static String host() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "unknown-host";
    }
  }

  @Override
  public void close() {
    try {
      fs.delete(file, false);
    } catch (IOException e) {
      LOG.warn("seqpack: cannot release the lock {}: {}", file, e.toString());
    }
  }
}
