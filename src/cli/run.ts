/**
 * `pidpilot run JOB [-config FILE]` (README.md), Batect's `batect TASK` for processes:
 * start JOB and exactly the jobs it needs (transitively through `dependsOn` and `when`
 * sources), wait for JOB to finish, tear the rest down in order, and exit with JOB's
 * status — 128+signal if it was killed, non-zero if it could not run (a dependency failed),
 * 128+signal (130, 143) if pidpilot was interrupted before JOB finished.
 *
 * It is the supervisor with the configuration narrowed to those jobs and JOB as `main`.
 */

import { nearest } from '../config/errors.js';
import type { Config } from '../config/types.js';
import { jobsNeededBy } from '../jobs/graph.js';
import type { ParsedArgs } from './args.js';
import { UsageError } from './args.js';
import { runSupervisor } from './run-supervisor.js';

/** The configuration that runs `target` and what it needs, with `target` as the main job. */
export function runModeConfig(config: Config, target: string): Config {
  const names = config.jobs.map((j) => j.name);
  const group = config.replicated?.[target];
  if (group)
    throw new UsageError(
      `"${target}" has replicas, and run waits for one process: run one of its instances (${target}-1 … ${target}-${group.replicas}), or a job that depends on it`,
    );
  if (!names.includes(target)) {
    const near = nearest(target, names);
    throw new UsageError(`no job named "${target}" in ${config.file}${near ? `; did you mean "${near}"?` : ''}`);
  }
  return { ...config, jobs: jobsNeededBy(config.jobs, target), main: target };
}

export function run(args: ParsedArgs): Promise<number> {
  const target = args.positionals[1];
  if (target === undefined) throw new UsageError('run needs the name of a job: pidpilot run JOB [-config FILE]');
  return runSupervisor(args, {
    prepare: (config) => runModeConfig(config, target),
    controlOptional: true,
    runMode: true,
  });
}
