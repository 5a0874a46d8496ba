/**
 * The checks that need the environment or the file system, not just the file's text: run by
 * `validate` and by start-up alike, so `validate` says OK exactly when a run gets past its
 * configuration, and a run that would exit 2 does so before anything starts or logs "started".
 * - the Consul settings, as the Consul client will use them: the file's `consul` completed by
 *   CONSUL_HTTP_ADDR & co., the address (`127.0.0.1:99999`, `[::1`), the certificate files;
 * - every job's environment as it will be passed (with `envFile`s folded in): no NUL byte;
 * - `notify: true` needs the native addon (Node cannot bind a unix datagram socket): without
 *   it such a job could never become ready, so nothing starts, as for a config error.
 */
import { ConfigError, ConfigErrors } from '../config/errors.js';
import type { Config } from '../config/types.js';
import { type Env, resolveConsulSettings } from '../discovery/consul/settings.js';
import { notifyUnsupported } from '../process/notify.js';

export function startupProblems(config: Config, env: Env): ConfigError[] {
  const file = config.file;
  const problems: ConfigError[] = [];
  if (config.consul !== undefined) {
    try {
      resolveConsulSettings(config.consul, env);
    } catch (err) {
      problems.push(
        new ConfigError({ file, path: 'consul', message: `invalid consul setting: ${(err as Error).message}` }),
      );
    }
  }
  config.jobs.forEach((job, i) => {
    for (const [name, value] of Object.entries(job.env)) {
      if (value.includes('\0')) {
        problems.push(
          new ConfigError({
            file,
            path: `jobs[${i}].env.${name}`,
            message: 'an environment value cannot contain a NUL byte (from an envFile)',
          }),
        );
      }
    }
    if (job.notify) {
      const why = notifyUnsupported();
      if (why !== null)
        problems.push(new ConfigError({ file, path: `jobs[${i}].notify`, message: `job ${job.name}: ${why}` }));
    }
  });
  return problems;
}

/** Throws ConfigErrors when start-up would fail on this configuration in this environment. */
export function checkStartup(config: Config, env: Env): void {
  const problems = startupProblems(config, env);
  if (problems.length > 0) throw new ConfigErrors(problems);
}
