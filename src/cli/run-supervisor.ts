/**
 * `pidpilot [run-supervisor] [-config FILE]`: load the configuration, start the
 * supervisor, turn signals into shutdown or events, and exit with its status.
 *
 * A bad configuration starts nothing and exits 2.
 */
import type { ParsedArgs } from './args.js';
import { configPath, reportConfigErrors } from './config-file.js';
import { ConfigErrors } from '../config/errors.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/types.js';
import { createLogger } from '../log/logger.js';
import { relayLines } from '../log/relay.js';
import type { LineWriter } from '../log/types.js';
import { exitNow } from '../process/exit.js';
import { killAllGroups, spawnBackend } from '../process/spawn.js';
import { Supervisor } from '../supervisor.js';
import { VERSION } from '../version.js';

/** How long pidpilot waits at exit for its log output to be taken. */
const LOG_DRAIN_AT_EXIT_MS = 2000;

export async function runSupervisor(args: ParsedArgs): Promise<number> {
  const path = configPath(args);
  let config: Config;
  try {
    config = loadConfig(path, process.env);
  } catch (err) {
    if (err instanceof ConfigErrors) return reportConfigErrors(err);
    throw err;
  }

  const { logger: log, sink, lineWriter } = createLogger(config.logging);
  const backend = spawnBackend();
  if (backend.warning) log.warn(backend.warning);

  const supervisor: Supervisor = new Supervisor(config, {
    log,
    relay: (stream, source, name) => relayLines(stream, { job: source, stream: name, writer: outputWriter }),
    history: true,
  });
  // Job output goes to the log and, captured, into the history.
  const outputWriter: LineWriter = supervisor.captureOutput(lineWriter);

  // Whatever happens, no child outlives pidpilot, and an abrupt exit still writes the log.
  let drained = false;
  process.on('exit', () => {
    killAllGroups('SIGKILL');
    if (!drained) sink.flushSync();
  });
  let internalError = false;
  const fatal = (err: unknown): void => {
    internalError = true;
    log.fatal({ err }, `internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    void supervisor.shutdown('internal error');
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);

  process.on('SIGTERM', () => void supervisor.shutdown('SIGTERM'));
  process.on('SIGINT', () => void supervisor.shutdown('SIGINT'));
  process.on('SIGHUP', () => supervisor.signalEvent('SIGHUP'));
  process.on('SIGUSR2', () => supervisor.signalEvent('SIGUSR2'));
  process.on('SIGUSR1', () => sink.reopen());

  log.info(`pidpilot ${VERSION} started: pid ${process.pid}, ${config.jobs.length} job${config.jobs.length === 1 ? '' : 's'} from ${config.file}`);
  const status = await supervisor.run();
  const exitStatus = internalError ? 1 : status;
  log.info(`pidpilot exiting with status ${exitStatus}`);
  // Let writes in flight finish, in order. A log reader that takes nothing for this long
  // is stuck: its last lines are dropped rather than keeping a PID 1 from exiting.
  if (!(await sink.drain(LOG_DRAIN_AT_EXIT_MS))) process.stderr.write('pidpilot: log output is not being read; its last lines are dropped\n');
  drained = true;
  // Exit now rather than wait for stray handles: every job has ended, the log is written.
  exitNow(exitStatus);
}
