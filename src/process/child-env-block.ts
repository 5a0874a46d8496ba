/**
 * A child's environment in two layers, so a spawn does not copy, check and encode the whole
 * environment every time: `base` (pidpilot's environment with putenv, a job's `env`: it
 * changes rarely) is checked and turned into execve's `NAME=value` strings once and reused;
 * `overlay` holds the few variables that change per run (CONTAINERPILOT_*_PID, PIDPILOT_RUN…)
 * and wins over `base`. A plain record is still accepted everywhere (tests, one-off runs).
 */

/** The part of an environment that is reused across spawns: checked and encoded once. */
export class PreparedEnv {
  /** `NAME=value`, as execve takes them. */
  readonly pairs: readonly string[];
  /** The first name no execve could take ('' or with '=' or NUL, or a value with NUL), if any. */
  readonly invalid: string | undefined;
  /** Where each name's pair is in `pairs`: an overlay variable of the same name takes its place. */
  readonly index = new Map<string, number>();

  constructor(readonly vars: Readonly<Record<string, string>>) {
    const pairs: string[] = [];
    let invalid: string | undefined;
    for (const k in vars) {
      const v = vars[k]!;
      if (invalid === undefined && !validEnvEntry(k, v)) invalid = k;
      this.index.set(k, pairs.length);
      pairs.push(`${k}=${v}`);
    }
    this.pairs = pairs;
    this.invalid = invalid;
  }
}

/** `base` with `overlay` over it. */
export interface LayeredEnv {
  readonly base: PreparedEnv;
  readonly overlay: Readonly<Record<string, string>>;
}

/** The complete environment of a child: a plain record, or two layers. */
export type ChildEnvSpec = Readonly<Record<string, string>> | LayeredEnv;

export function isLayered(env: ChildEnvSpec): env is LayeredEnv {
  return env.base instanceof PreparedEnv;
}

export function validEnvEntry(name: string, value: string): boolean {
  return name !== '' && !name.includes('=') && !name.includes('\0') && !value.includes('\0');
}

/** The first variable no execve could take, if any. */
export function invalidEnvName(env: ChildEnvSpec): string | undefined {
  const own = isLayered(env) ? env.overlay : env;
  for (const k in own) if (!validEnvEntry(k, own[k]!)) return k;
  return isLayered(env) ? env.base.invalid : undefined;
}

/** The value of one variable (PATH for the search) as the child will see it. */
export function envValue(env: ChildEnvSpec, name: string): string | undefined {
  if (!isLayered(env)) return env[name];
  return Object.hasOwn(env.overlay, name) ? env.overlay[name] : env.base.vars[name];
}

/** The environment as one record (the portable spawner hands it to execa). */
export function envRecord(env: ChildEnvSpec): Record<string, string> {
  return isLayered(env) ? { ...env.base.vars, ...env.overlay } : { ...env };
}

/** execve's `NAME=value` strings, each name once (the overlay's value where both have it). */
export function envPairs(env: ChildEnvSpec): string[] {
  if (!isLayered(env)) {
    const out: string[] = [];
    for (const k in env) out.push(`${k}=${env[k]}`);
    return out;
  }
  // An overlay variable that the base has too replaces the base's pair where it is (per spawn:
  // a lookup per overlay variable, not a scan of the whole base).
  const { base, overlay } = env;
  const out = base.pairs.slice();
  for (const k in overlay) {
    const pair = `${k}=${overlay[k]}`;
    const at = base.index.get(k);
    if (at === undefined) out.push(pair);
    else out[at] = pair;
  }
  return out;
}
