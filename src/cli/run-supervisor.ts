/**
 * `pidpilot [run-supervisor] [-config FILE]`: load the configuration, take up PID 1's
 * duties (reaping orphans, signals, internal errors: src/pid1/), start the supervisor,
 * and exit with its status.
 *
 * Exit status (docs/pid1.md): a bad configuration starts nothing and exits 2; an internal
 * error is logged with its stack, every job is stopped in order, and pidpilot exits 1;
 * otherwise the supervisor's status (pid1/exit-status.ts: 0, or the `main` job's).
 */
import { networkInterfaces } from 'node:os';
import * as builtins from '../builtins.js';
import { ConfigErrors } from '../config/errors.js';
import { loadConfig } from '../config/load.js';
import type { Config, DashboardConfig } from '../config/types.js';
import { ControlServer } from '../control/server.js';
import { controlSocketPath } from '../control/socket-path.js';
import { attachDiscovery } from '../discovery/attach.js';
import type { Discovery } from '../discovery/types.js';
import type { Observers } from '../events/observers.js';
import type { JobState } from '../jobs/state.js';
import { createDeferredLogger } from '../log/deferred-logger.js';
import { HoldingSink } from '../log/holding-sink.js';
import type { SupervisorLogger as Logger } from '../log/logger.js';
import { relayLines } from '../log/relay.js';
import type { LineWriter } from '../log/types.js';
import type { SupervisorPart } from '../parts.js';
import { handleInternalErrors } from '../pid1/fatal.js';
import { handleSignals, logIsFile } from '../pid1/signals.js';
import { startReaping } from '../pid1/start-reaping.js';
import { exitNow } from '../process/exit.js';
import { releaseMemoryWhenIdle } from '../process/idle-memory.js';
import { killAdoptedOrphans } from '../process/orphans.js';
import { killAllGroups, spawnBackend } from '../process/spawn.js';
import { attachHistory } from '../state/attach.js';
import { prepareProjectDir } from '../state/dir.js';
import { Supervisor } from '../supervisor.js';
import { telemetryAddresses } from '../telemetry/address.js';
import type { Telemetry } from '../telemetry/index.js';
import { VERSION } from '../version.js';
import type { ParsedArgs } from './args.js';
import { configPath, reportConfigErrors } from './config-file.js';
import { checkStartup } from './preflight.js';

/** How long pidpilot waits at exit for its log output to be taken. */
const LOG_DRAIN_AT_EXIT_MS = 2000;

export interface RunOptions {
  /**
   * Narrows the loaded configuration before anything starts (run mode keeps one job and
   * what it needs); it may throw a UsageError.
   */
  prepare?: (config: Config) => Config;
  /**
   * A supervisor must own its control socket (a second one on the same socket stops); run
   * mode works without one, so `pidpilot run test` still runs next to a live supervisor.
   */
  controlOptional?: boolean;
  /** `pidpilot run JOB`: an interruption before the target finished exits 128+signal, never 0. */
  runMode?: boolean;
}

export async function runSupervisor(
  args: ParsedArgs,
  { prepare = (c) => c, controlOptional = false, runMode = false }: RunOptions = {},
): Promise<number> {
  const path = configPath(args);
  let config: Config;
  try {
    config = prepare(loadConfig(path, process.env));
    // The same checks as `validate`: a configuration that cannot run stops here, before anything starts.
    checkStartup(config, process.env);
  } catch (err) {
    if (err instanceof ConfigErrors) return reportConfigErrors(err);
    throw err;
  }

  // pino is made once the first jobs have started (or the log is first written out): deferred-logger.ts.
  const {
    logger: log,
    sink,
    lineWriter,
    materialize: materializeLog,
  } = createDeferredLogger(config.logging, new HoldingSink(config.logging.output));
  const backend = spawnBackend();
  if (backend.warning) log.warn(backend.warning);

  // The project's own directory (when the defaults put the socket or the state there) is
  // made private before the history opens in it.
  const socketPath = controlSocketPath(config);
  const placeProblem = prepareProjectDir(config, socketPath);
  if (placeProblem) {
    log.error(`cannot use ${placeProblem}`);
    await sink.drain(LOG_DRAIN_AT_EXIT_MS);
    exitNow(1);
  }

  // The composition root: the supervisor (bus, observers, child environment, job set),
  // then the parts attached from outside, in this order — discovery and watches (their
  // registrar observes the bus first), the history, and telemetry below.
  const supervisor: Supervisor = new Supervisor(config, {
    log,
    relay: (stream, source, name) => relayLines(stream, { job: source, stream: name, writer: outputWriter }),
    narrow: prepare,
    preflight: checkStartup,
    runMode,
  });
  let discovery: Discovery;
  try {
    discovery = attachDiscovery(supervisor, log, process.env);
  } catch (err) {
    // Like a configuration error: nothing starts.
    log.error(`invalid consul setting: ${err instanceof Error ? err.message : String(err)}`);
    await sink.drain(LOG_DRAIN_AT_EXIT_MS);
    exitNow(2);
  }
  const store = attachHistory(supervisor, log);
  supervisor.history = store;
  // Job output goes to the log and, captured, into the history.
  const outputWriter: LineWriter = store ? store.captureWriter(lineWriter) : lineWriter;

  // Whatever happens, no child outlives pidpilot, and an abrupt exit still writes the log.
  let drained = false;
  process.on('exit', () => {
    killAllGroups('SIGKILL');
    killAdoptedOrphans();
    if (!drained) sink.flushSync();
  });
  const internal = handleInternalErrors({
    log,
    // An internal error makes the status 1 whatever the jobs did (below).
    shutdown: (reason) => void supervisor.shutdown(reason),
    shuttingDown: () => supervisor.isShuttingDown,
    stopTimeoutMs: config.stopTimeout,
    exit: (status) => {
      sink.flushSync();
      drained = true;
      exitNow(status);
    },
  });
  // Before the first spawn: the orphans of every job must come to pidpilot.
  startReaping(log);
  handleSignals(supervisor, { reopenLog: logIsFile(config.logging.output) ? () => sink.reopen() : undefined });

  // The control socket: a second pidpilot on the same socket stops here, before any job
  // starts (a probe: a live socket answers a connect). It is bound just after the first jobs
  // start (docs/control-api.md); until then the log is held, so that nothing, the "started"
  // line first, shows before the socket answers.
  let telemetry: Telemetry | null = null;
  const control = new ControlServer(socketPath, supervisor, log, (path, code) =>
    telemetry?.metrics.onControlRequest(path, code),
  );
  let controlled = true;
  let controlFailed = false;
  const noControl = async (err: unknown, started: boolean): Promise<void> => {
    if (controlOptional) {
      controlled = false;
      log.warn(`running without a control socket: ${(err as Error).message}`);
    } else if (!started) {
      log.error(`cannot serve the control socket: ${(err as Error).message}`);
      await sink.drain(LOG_DRAIN_AT_EXIT_MS);
      drained = true;
      exitNow(1);
    } else {
      // Lost a race for the socket after the probe: stop what started, and exit 1.
      controlFailed = true;
      log.error(`cannot serve the control socket: ${(err as Error).message}`);
      void supervisor.shutdown('no control socket');
    }
  };
  try {
    await control.probe();
  } catch (err) {
    await noControl(err, false);
  }

  // Telemetry records runs and events from the start (buffered until prom-client is loaded, below).
  const startTelemetry = config.telemetry ? (await import('../telemetry/index.js')).beginTelemetry(supervisor) : null;
  sink.hold();
  log.info(
    `pidpilot ${VERSION} started: pid ${process.pid}, ${config.jobs.length} job${config.jobs.length === 1 ? '' : 's'} from ${(config.files ?? [config.file]).join(' + ')}; control socket ${controlled ? control.socketPath : 'none'}`,
  );
  const startBurstDone = lightStartBurst(supervisor.observers);
  supervisor.attach(lightShutdown());
  const running = supervisor.run();
  // The first jobs are spawned in the turns of the job loops that run() began.
  await new Promise((resolve) => setImmediate(resolve));
  startBurstDone();
  // The history's state dir is made and locked only now, off the start path (bench/README.md);
  // what it recorded so far was queued. A dir it cannot have leaves no history.
  if (store && !store.open()) supervisor.history = null;
  materializeLog();
  const cancelRelease = releaseMemoryWhenIdle({ shuttingDown: () => supervisor.isShuttingDown });
  if (controlled) {
    try {
      await control.listen();
    } catch (err) {
      await noControl(err, true);
    }
  }
  sink.resume();
  // The dashboard, when configured, is a client of the control socket like `pidpilot ui`.
  const dashboard =
    config.dashboard && controlled && !controlFailed
      ? await startDashboard(config.dashboard, control.socketPath, log)
      : null;
  // prom-client loads after the first jobs have started, so telemetry never delays them.
  if (startTelemetry && config.telemetry) {
    const port = config.telemetry.port;
    const { address, host, problem } = telemetryAddresses(config.telemetry, networkInterfaces());
    if (problem) log.warn(`telemetry: not registered in discovery: ${problem}`);
    startTelemetry(config.telemetry, { log, registry: discovery, address, host }).then(
      (t) => {
        telemetry = t;
        log.info(`telemetry: serving /metrics and /status on port ${t.port}`);
      },
      (err: unknown) =>
        log.error(`telemetry: cannot serve on port ${port}: ${(err as Error).message}; running without it`),
    );
  }
  const status = await running;
  cancelRelease();
  await Promise.all([dashboard?.close(), control.close(), (telemetry as Telemetry | null)?.close()]);
  const exitStatus = internal.failed || controlFailed ? 1 : status;
  log.info(`pidpilot exiting with status ${exitStatus}`);
  // Let writes in flight finish, in order. A log reader that takes nothing for this long
  // is stuck: its last lines are dropped rather than keeping a PID 1 from exiting.
  if (!(await sink.drain(LOG_DRAIN_AT_EXIT_MS)))
    process.stderr.write('pidpilot: log output is not being read; its last lines are dropped\n');
  drained = true;
  // Exit now rather than wait for stray handles: every job has ended, the log is written.
  exitNow(exitStatus);
}

/**
 * V8 settings for the burst of the first jobs' starts, set when the first job runs (node:v8
 * loads node:stream, which that job's pipes have just loaded anyway); the returned function
 * puts V8's defaults back once they have started, for the log relay, which needs both.
 * - V8 grows its young generation (up to 2 × 16 MiB) when much survives its collections, as
 *   the start of hundreds of jobs makes it, and keeps it for good. With a growth factor of 1
 *   it stays at its size (RSS with 500 idle jobs 103 → 79 MB: bench/README.md); a busy relay
 *   takes 2.4× the CPU per line without its growth (factor 2).
 * - TurboFan is off: the functions that are hot only while a hundred jobs start (the child
 *   environment's, path normalising) are not optimised, so an idle pidpilot never maps the
 *   optimising compiler's code of the node binary nor fills malloc arenas with its zones
 *   (RSS with 100 idle jobs 49.7 → 45.0 MB: bench/README.md); the burst costs no more CPU without it.
 */
export function lightStartBurst(observers: Observers): () => void {
  let set = false;
  const first = (_job: string, state: JobState): void => {
    if (state !== 'running') return;
    observers.off('state', first);
    builtins.v8().setFlagsFromString('--semi-space-growth-factor=1');
    builtins.v8().setFlagsFromString('--no-turbofan');
    set = true;
  };
  observers.on('state', first);
  return () => {
    observers.off('state', first);
    if (!set) return;
    builtins.v8().setFlagsFromString('--semi-space-growth-factor=2');
    builtins.v8().setFlagsFromString('--turbofan');
  };
}

/**
 * A part that keeps V8's work off other threads when the shutdown begins, when every CPU is
 * busy with dying children (bench/README.md, shutdown):
 * - The optimising compiler is turned off. The stop path of every job runs once, for all jobs
 *   together: its functions become hot just as they stop being needed, and TurboFan's compiles
 *   of them (concurrent, on V8's worker threads) took one sixth of pidpilot's instructions from
 *   SIGTERM to exit with 100 jobs. Code already optimised stays optimised: a log relay that was
 *   busy before the shutdown keeps its speed.
 * - Young-generation collections run on the main thread alone. A parallel one splits its work
 *   among V8's worker threads and waits for the last of them; with the CPUs taken by children
 *   tearing down their memory, a worker waits for a CPU and the collection with it (two of them
 *   took 10 ms of a 100-job shutdown).
 */
export function lightShutdown(): SupervisorPart {
  return {
    shutdown: () => {
      builtins.v8().setFlagsFromString('--no-turbofan');
      builtins.v8().setFlagsFromString('--no-parallel-scavenge');
      return { closed: Promise.resolve() };
    },
  };
}

/** Serves the dashboard (config section `dashboard`); a port that cannot be had is logged, not fatal. */
async function startDashboard(
  settings: DashboardConfig,
  socketPath: string,
  log: Logger,
): Promise<{ close: () => Promise<void> } | null> {
  const [{ DashboardServer }, { ControlClient }] = await Promise.all([
    import('../dashboard/server.js'),
    import('./client.js'),
  ]);
  const server = new DashboardServer(new ControlClient(socketPath), settings);
  try {
    const url = await server.listen();
    log.info(
      `dashboard: serving on ${url}; actions ${server.actions === 'off' ? 'off (not on loopback: set dashboard.allowActions or dashboard.token)' : server.actions === 'token' ? 'need the token' : 'on'}`,
    );
    return server;
  } catch (err) {
    log.error(
      `dashboard: cannot serve on ${settings.listen}:${settings.port}: ${(err as Error).message}; running without it`,
    );
    await server.close().catch(() => {});
    return null;
  }
}
