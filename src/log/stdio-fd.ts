/**
 * The log sink's descriptor for stdout/stderr (sink.ts), apart because it is about the file
 * description, not the queue.
 */
import { closeSync, constants, fstatSync, openSync } from 'node:fs';

/**
 * A descriptor for stdout/stderr. When it is a pipe, open a new description of the same
 * pipe through /proc: Node makes fd 1/2 non-blocking as soon as anything touches
 * `process.stdout`, and on a non-blocking pipe sonic-boom answers EAGAIN by sleeping
 * 100 ms per retry, which throttles logging to a crawl behind a slow reader. Our own
 * description stays blocking: a full pipe then blocks a libuv worker thread, which is
 * exactly back-pressure. A FIFO opened for writing blocks until a reader exists, so probe
 * non-blockingly first (ENXIO: no reader left); on any failure use the fd itself, where
 * sonic-boom's EAGAIN retry still loses nothing.
 */
export function openStdio(fd: 1 | 2, reopenPipes: boolean): number {
  if (!reopenPipes) return fd;
  try {
    if (!fstatSync(fd).isFIFO()) return fd;
    const path = `/proc/self/fd/${fd}`;
    const probe = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
    closeSync(probe);
    return openSync(path, constants.O_WRONLY);
  } catch {
    return fd;
  }
}
