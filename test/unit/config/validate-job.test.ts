/** One test (or table) per job rule: path, line:column, message and suggestion. */
import { describe, expect, it } from 'vitest';
import { configWarnings } from '../../../src/config/validate/warnings.js';
import { publishedName } from '../../../src/jobs/naming.js';
import { HEALTH_DEFAULTS } from '../../support/jobs.js';
import { check, errorsOf, expectError, job, oneJob } from './helpers.js';

const HEALTH = 'health: { exec: "check", interval: 5, ttl: 10 }';

describe('name', () => {
  it('is required', () => {
    const text = oneJob('exec: "x"');
    expectError(text, { path: 'jobs[0].name', at: '{ exec', message: 'missing required field `name`' });
  });

  it('must be a non-empty string', () => {
    const t1 = oneJob('name: "", exec: "x"');
    expectError(t1, { path: 'jobs[0].name', at: '""', message: 'expected a non-empty string, got ""' });
    const t2 = oneJob('name: 5, exec: "x"');
    expectError(t2, { path: 'jobs[0].name', at: '5', message: 'expected a string, got 5' });
  });

  it('must be usable in CONTAINERPILOT_{NAME}_PID', () => {
    const text = oneJob('name: "my job", exec: "x"');
    expectError(text, {
      path: 'jobs[0].name',
      at: '"my job"',
      message: /^job name "my job" may contain only letters, digits, '_' and '-'/,
    });
  });

  it('of a job without port may be any such name (ContainerPilot)', () => {
    expect(job('name: "myjob_invalid_name", exec: "x"').name).toBe('myjob_invalid_name');
    expect(job('name: "A", exec: "x"').name).toBe('A');
  });

  it.each(['my_app', 'App', '-app', 'a', '1app'])('of a job with port must be a service name: %j', (name) => {
    const text = oneJob(`name: "${name}", port: 80, ${HEALTH}`);
    expectError(text, {
      path: 'jobs[0].name',
      at: `"${name}"`,
      message: new RegExp(`^service name "${name}" is not valid: a job with \`port\` is registered in Consul`),
    });
  });

  it.each(['myService', 'my-service', 'my-service-123', 'ab'])('service name %j is fine', (name) => {
    expect(job(`name: "${name}", port: 80, ${HEALTH}`).port).toBe(80);
  });

  it('may repeat, as in ContainerPilot: the later ones are addressed as name#2, name#3 and publish under the name (defect 16)', () => {
    const text =
      '{ jobs: [\n  { name: "a", exec: "x" },\n  null,\n  { name: "a", exec: "y" },\n  { name: "b", exec: "z", dependsOn: ["a#2"] },\n  { name: "a", exec: "w" },\n] }';
    const cfg = check(text);
    expect(cfg.jobs.map((j) => [j.name, j.exec, j.duplicateOf])).toEqual([
      ['a', ['x'], undefined],
      ['a#2', ['y'], { name: 'a', index: 2, firstIndex: 0 }],
      ['b', ['z'], undefined],
      ['a#3', ['w'], { name: 'a', index: 4, firstIndex: 0 }],
    ]);
    expect(cfg.jobs[2]!.dependsOn).toEqual([{ job: 'a#2', condition: 'succeeded' }]);
    expect(cfg.jobs.map(publishedName)).toEqual(['a', 'a', 'b', 'a']);
    expect(configWarnings(cfg)).toEqual([
      'jobs[0] and jobs[2] are both named "a": both run, publish their events and register in Consul under that name (as ContainerPilot does); status, control, dependsOn and the history call jobs[2] "a#2"',
      'jobs[0] and jobs[4] are both named "a": both run, publish their events and register in Consul under that name (as ContainerPilot does); status, control, dependsOn and the history call jobs[4] "a#3"',
    ]);
    expect(check(text.replace('{ jobs:', '{ main: "a#3", jobs:')).main).toBe('a#3');
    // A name as written may not contain '#': the generated names never collide with one.
    expectError(oneJob('name: "a#2", exec: "x"'), { path: 'jobs[0].name', message: /may contain only letters/ });
  });

  it('must not collide with another after upper-casing and - → _', () => {
    const text = '{ jobs: [\n  { name: "web-app", exec: "x" },\n  { name: "WEB_APP", exec: "y" },\n] }';
    expectError(text, {
      path: 'jobs[1].name',
      at: '"WEB_APP"',
      message:
        'job names "WEB_APP" and "web-app" (jobs[0]) both give the environment variable CONTAINERPILOT_WEB_APP_PID',
    });
  });
});

describe('exec', () => {
  it('splits a string on white space', () => {
    expect(job('name: "a", exec: "  /bin/app  -x\\t--y "').exec).toEqual(['/bin/app', '-x', '--y']);
  });

  it('keeps an array as argv, numbers and booleans as text', () => {
    expect(job('name: "a", exec: ["/bin/sh", "-c", "echo  a b", 5, true]').exec).toEqual([
      '/bin/sh',
      '-c',
      'echo  a b',
      '5',
      'true',
    ]);
  });

  it('is optional', () => {
    expect(job('name: "a"').exec).toBeUndefined();
  });

  it.each([
    ['""', 'expected a command string or a non-empty array of arguments, got an empty string', 'jobs[0].exec'],
    ['"   "', 'expected a command string or a non-empty array of arguments, got an empty string', 'jobs[0].exec'],
    ['[]', 'expected a command string or a non-empty array of arguments, got an empty array', 'jobs[0].exec'],
    ['5', 'expected a command string or a non-empty array of arguments, got 5', 'jobs[0].exec'],
    ['{}', 'expected a command string or a non-empty array of arguments, got an object', 'jobs[0].exec'],
  ])('refuses %s', (value, message, path) => {
    const text = oneJob(`name: "a", exec: ${value}`);
    expectError(text, { path, at: value, message });
  });

  it('refuses a non-string argument, pointing at it', () => {
    const text = oneJob('name: "a", exec: ["x", {}]');
    expectError(text, { path: 'jobs[0].exec[1]', at: '{}', message: 'expected a string, got an object' });
  });

  it('refuses an empty executable', () => {
    const text = oneJob('name: "a", exec: ["", "x"]');
    expectError(text, {
      path: 'jobs[0].exec[0]',
      at: '""',
      message: 'the executable (first argument) must not be empty',
    });
  });
});

describe('logging', () => {
  it('defaults to raw: false and accepts Go boolean spellings', () => {
    expect(job('name: "a"').logging).toEqual({ raw: false });
    expect(job('name: "a", logging: { raw: true }').logging).toEqual({ raw: true });
    expect(job('name: "a", logging: { raw: "True" }').logging).toEqual({ raw: true });
    expect(job('name: "a", logging: { raw: "0" }').logging).toEqual({ raw: false });
  });

  it('refuses a non-boolean', () => {
    const text = oneJob('name: "a", logging: { raw: "yes" }');
    expectError(text, { path: 'jobs[0].logging.raw', at: '"yes"', message: 'expected true or false, got "yes"' });
  });

  it('refuses unknown members', () => {
    const text = oneJob('name: "a", logging: { rwa: true }');
    expectError(text, {
      path: 'jobs[0].logging.rwa',
      at: 'rwa',
      message: 'unknown field `rwa`; did you mean `raw`?',
      suggestion: 'raw',
    });
  });
});

describe('when', () => {
  it('absent: start on startup', () => {
    expect(job('name: "a", exec: "x"').when).toEqual({ kind: 'startup' });
  });

  it('source + once', () => {
    expect(job('name: "a", when: { source: "setup", once: "exitSuccess" }').when).toEqual({
      kind: 'event',
      source: 'setup',
      code: 'exitSuccess',
      mode: 'once',
    });
  });

  it('source + each, with timeout', () => {
    expect(job('name: "a", when: { source: "watch.app", each: "changed", timeout: "60s" }').when).toEqual({
      kind: 'event',
      source: 'watch.app',
      code: 'changed',
      mode: 'each',
      timeout: 60_000,
    });
  });

  it('timeout 0 means no timeout (ContainerPilot)', () => {
    expect(job('name: "a", when: { source: "b", once: "healthy", timeout: "0" }').when).toEqual({
      kind: 'event',
      source: 'b',
      code: 'healthy',
      mode: 'once',
    });
  });

  it.each(['SIGHUP', 'SIGUSR2'])('a %s source is a signal trigger, every time', (sig) => {
    const expected = { kind: 'event', source: sig, code: 'signal', mode: 'each' };
    expect(job(`name: "a", when: { source: "${sig}" }`).when).toEqual(expected);
    expect(job(`name: "a", when: { source: "${sig}", once: "exitSuccess" }`).when).toEqual(expected);
  });

  it('pidpilot event codes are accepted', () => {
    expect(job('name: "a", when: { source: "db", once: "ready" }').when).toMatchObject({ code: 'ready' });
    expect(job('name: "a", when: { source: "db", once: "failed" }').when).toMatchObject({ code: 'failed' });
  });

  it('interval', () => {
    const j = job('name: "a", exec: "x", when: { interval: "1.5s" }');
    expect(j.when).toEqual({ kind: 'interval', interval: 1500, overlap: 'queue' });
  });

  it('cron: five or six fields, a time zone, an overlap policy (skip by default; queue for interval)', () => {
    expect(job('name: "a", exec: "x", when: { cron: "*/5 * * * *" }')).toMatchObject({
      when: { kind: 'cron', cron: '*/5 * * * *', overlap: 'skip' },
      restarts: Infinity,
    });
    expect(
      job('name: "a", exec: "x", when: { cron: "0 0 3 * * *", timezone: "Europe/Paris", overlap: "replace" }').when,
    ).toEqual({ kind: 'cron', cron: '0 0 3 * * *', timezone: 'Europe/Paris', overlap: 'replace' });
    expect(job('name: "a", exec: "x", when: { interval: "1s", overlap: "skip" }').when).toMatchObject({
      overlap: 'skip',
    });
  });

  it('cron: a bad expression or time zone names the job and the field', () => {
    expectError(oneJob('name: "backup", exec: "x", when: { cron: "61 * * * *" }'), {
      path: 'jobs[0].when.cron',
      at: '"61',
      message: 'job "backup": invalid cron expression "61 * * * *": Invalid value for minute: 61',
    });
    expectError(oneJob('name: "backup", exec: "x", when: { cron: "0 3 * * *", timezone: "Europe/Pari" }'), {
      path: 'jobs[0].when.timezone',
      at: '"Europe/Pari"',
      message: 'job "backup": unknown time zone "Europe/Pari": expected an IANA name like "Europe/Paris"',
    });
    expectError(oneJob('name: "a", exec: "x", when: { cron: "0 0 30 2 *" }'), {
      path: 'jobs[0].when.cron',
      message: /^job "a": the cron expression "0 0 30 2 \*" never fires/,
    });
  });

  it('cron excludes the other triggers; timezone needs cron, overlap a schedule', () => {
    expectError(oneJob('name: "a", when: { cron: "* * * * *", interval: "1s" }'), {
      path: 'jobs[0].when',
      message: 'only one of `interval`, `cron`, `once` or `each` may be set, got `interval` and `cron`',
    });
    expectError(oneJob('name: "a", when: { cron: "* * * * *", source: "b" }'), {
      path: 'jobs[0].when.source',
      message: '`source` cannot be combined with `cron`',
    });
    expectError(oneJob('name: "a", when: { interval: "1s", timezone: "UTC" }'), {
      path: 'jobs[0].when.timezone',
      message: '`timezone` needs `cron`',
    });
    expectError(oneJob('name: "a", when: { source: "b", once: "healthy", overlap: "queue" }'), {
      path: 'jobs[0].when.overlap',
      message: '`overlap` needs `interval` or `cron`',
    });
    expectError(oneJob('name: "a", when: { cron: "* * * * *", overlap: "sikp" }'), {
      path: 'jobs[0].when.overlap',
      message: /did you mean "skip"\?$/,
      suggestion: 'skip',
    });
  });

  it('refuses more than one of interval, once, each', () => {
    const text = oneJob('name: "a", when: { interval: "5s", once: "healthy" }');
    expectError(text, {
      path: 'jobs[0].when',
      at: '{ interval',
      message: 'only one of `interval`, `cron`, `once` or `each` may be set, got `interval` and `once`',
    });
    const t2 = oneJob('name: "a", when: { source: "b", once: "healthy", each: "healthy" }');
    expectError(t2, { path: 'jobs[0].when', at: '{ source', message: /got `once` and `each`$/ });
  });

  it('interval is the only field allowed with it', () => {
    const text = oneJob('name: "a", when: { interval: "5s", source: "b" }');
    expectError(text, {
      path: 'jobs[0].when.source',
      at: 'source',
      message: '`source` cannot be combined with `interval`',
    });
    const t2 = oneJob('name: "a", when: { interval: "5s", timeout: "1s" }');
    expectError(t2, {
      path: 'jobs[0].when.timeout',
      at: 'timeout',
      message: '`timeout` cannot be combined with `interval`',
    });
  });

  it('once/each need a source', () => {
    const text = oneJob('name: "a", when: { once: "healthy" }');
    expectError(text, {
      path: 'jobs[0].when.source',
      at: '"healthy"',
      message: 'missing required field `source`: `once` needs the source of the event',
    });
  });

  it('a source needs once or each', () => {
    const text = oneJob('name: "a", when: { source: "db" }');
    expectError(text, {
      path: 'jobs[0].when',
      at: '"db"',
      message: '`source` needs `once` or `each`: the event to wait for',
    });
  });

  it('an empty when is an error', () => {
    const text = oneJob('name: "a", when: {}');
    expectError(text, {
      path: 'jobs[0].when',
      at: '{}',
      message: 'expected `interval`, `cron`, or `source` with `once` or `each`',
    });
  });

  it('event codes must be known, with a suggestion', () => {
    const text = oneJob('name: "a", when: { source: "b", once: "exitsuccess" }');
    const e = expectError(text, {
      path: 'jobs[0].when.once',
      at: '"exitsuccess"',
      message: /^expected one of "startup", .*, got "exitsuccess"; did you mean "exitSuccess"\?$/,
      suggestion: 'exitSuccess',
    });
    expect(e.expected).toContain('"timerExpired"');
  });

  it('a signal code needs the signal source', () => {
    const text = oneJob('name: "a", when: { source: "b", each: "SIGHUP" }');
    expectError(text, {
      path: 'jobs[0].when.each',
      at: '"SIGHUP"',
      message: 'the event SIGHUP is only emitted with source SIGHUP',
    });
  });

  it.each([
    ['"0.5ms"', 'must be at least 1ms, got "0.5ms"'],
    ['"1ns"', 'must be at least 1ms, got "1ns"'],
    ['"-1s"', 'must be at least 1ms, got "-1s"'],
    ['0', 'must be at least 1ms, got 0'],
    ['"xx"', 'expected a duration like "5s" or "300ms", or a whole number of seconds, got "xx"'],
  ])('interval %s is refused', (value, message) => {
    const text = oneJob(`name: "a", when: { interval: ${value} }`);
    expectError(text, { path: 'jobs[0].when.interval', at: value, message });
  });

  it('when.timeout in (0, 1ms) is refused', () => {
    const text = oneJob('name: "a", when: { source: "b", once: "healthy", timeout: "10us" }');
    expectError(text, {
      path: 'jobs[0].when.timeout',
      at: '"10us"',
      message: 'must be 0 (no timeout) or at least 1ms',
    });
  });

  it('refuses unknown members and non-objects', () => {
    // Only the typo is reported, not also "when needs a trigger".
    const text = oneJob('name: "a", when: { intervl: "5s" }');
    expectError(text, {
      path: 'jobs[0].when.intervl',
      at: 'intervl',
      message: 'unknown field `intervl`; did you mean `interval`?',
      suggestion: 'interval',
    });
    const t2 = oneJob('name: "a", when: "startup"');
    expectError(t2, { path: 'jobs[0].when', at: '"startup"', message: 'expected an object, got "startup"' });
  });
});

describe('timeout and stopTimeout', () => {
  it('timeout: durations or bare seconds; absent for a non-interval job', () => {
    expect(job('name: "a", timeout: "100ms"').timeout).toBe(100);
    expect(job('name: "a", timeout: 5').timeout).toBe(5000);
    expect(job('name: "a", timeout: "5"').timeout).toBe(5000);
    expect(job('name: "a"').timeout).toBeUndefined();
  });

  it('an interval job is bounded by its interval unless told otherwise', () => {
    expect(job('name: "a", when: { interval: "1ms" }').timeout).toBe(1);
    expect(job('name: "a", timeout: "100ms", when: { interval: "1500ms" }').timeout).toBe(100);
  });

  it.each([
    ['"1ns"', 'must be at least 1ms, got "1ns"'],
    ['"-1ms"', 'must be at least 1ms, got "-1ms"'],
    ['"xx"', 'expected a duration like "5s" or "300ms", or a whole number of seconds, got "xx"'],
    [
      '1.5',
      'expected a duration like "5s" or "300ms", or a whole number of seconds, got 1.5 (a bare number must be a whole number of seconds)',
    ],
    ['true', 'expected a duration like "5s" or "300ms", or a whole number of seconds, got true'],
  ])('timeout %s is refused', (value, message) => {
    const text = oneJob(`name: "a", timeout: ${value}`);
    expectError(text, { path: 'jobs[0].timeout', at: value, message });
  });

  it('stopTimeout defaults to 10s; 0 is allowed; negative is not', () => {
    expect(job('name: "a"').stopTimeout).toBe(10_000);
    expect(job('name: "a", stopTimeout: "5s"').stopTimeout).toBe(5000);
    expect(job('name: "a", stopTimeout: 0').stopTimeout).toBe(0);
    const text = oneJob('name: "a", stopTimeout: "-1s"');
    expectError(text, { path: 'jobs[0].stopTimeout', at: '"-1s"', message: 'must not be negative, got "-1s"' });
  });
});

describe('restarts', () => {
  it.each([
    ['"unlimited"', Infinity],
    ['"never"', 0],
    ['1', 1],
    ['"1"', 1],
    ['0', 0],
    ['"0"', 0],
    ['"5"', 5],
  ])('%s → %s', (value, n) => {
    expect(job(`name: "a", restarts: ${value}`).restarts).toBe(n);
  });

  it('defaults to never, or unlimited for an interval job', () => {
    expect(job('name: "a"').restarts).toBe(0);
    expect(job('name: "a", when: { interval: "1s" }').restarts).toBe(Infinity);
    expect(job('name: "a", restarts: 3, when: { interval: "5s" }').restarts).toBe(3);
  });

  it.each(['"invalid"', '"-1"', '-1', '1.5', 'true', '"1.0"'])('refuses %s', (value) => {
    const text = oneJob(`name: "a", restarts: ${value}`);
    expectError(text, {
      path: 'jobs[0].restarts',
      at: value,
      message: new RegExp(
        `^expected "unlimited", "never", or a non-negative integer, got ${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`,
      ),
    });
  });

  // An object whose toString is not a function cannot be turned into text by String():
  // found by the config property test; the message says what it is instead.
  it.each([
    ['{ toString: 1 }', 'an object'],
    ['[1]', 'an array'],
    ['null', null],
  ])('refuses %s with a message', (value, what) => {
    const text = oneJob(`name: "a", restarts: ${value}`);
    if (what === null) return void expect(job(`name: "a", restarts: ${value}`).restarts).toBe(0);
    expectError(text, {
      path: 'jobs[0].restarts',
      message: `expected "unlimited", "never", or a non-negative integer, got ${what}`,
    });
  });

  it('suggests the word that was meant', () => {
    const text = oneJob('name: "a", restarts: "unlimted"');
    expectError(text, {
      path: 'jobs[0].restarts',
      at: '"unlimted"',
      message: 'expected "unlimited", "never", or a non-negative integer, got "unlimted"; did you mean "unlimited"?',
      suggestion: 'unlimited',
    });
  });

  it('refuses unlimited with when.each', () => {
    const text = oneJob('name: "a", restarts: "unlimited", when: { each: "healthy", source: "other" }');
    expectError(text, {
      path: 'jobs[0].restarts',
      at: '"unlimited"',
      message:
        '"unlimited" cannot be combined with `when.each`: every event would start another process that restarts forever',
    });
  });

  it('allows unlimited with once, and with a signal source (as ContainerPilot)', () => {
    expect(job('name: "a", restarts: "unlimited", when: { source: "db", once: "healthy" }').restarts).toBe(Infinity);
    expect(job('name: "a", restarts: "unlimited", when: { source: "SIGHUP" }').restarts).toBe(Infinity);
  });
});

describe('restartBackoff', () => {
  it('defaults to {0s, 10s, 2, 10s}', () => {
    expect(job('name: "a"').restartBackoff).toEqual({ initial: 0, max: 10_000, factor: 2, resetAfter: 10_000 });
  });

  it('fills what is left out', () => {
    expect(job('name: "a", restartBackoff: { max: "1m", factor: 1.5 }').restartBackoff).toEqual({
      initial: 0,
      max: 60_000,
      factor: 1.5,
      resetAfter: 10_000,
    });
  });

  it('factor must be ≥ 1', () => {
    const text = oneJob('name: "a", restartBackoff: { factor: 0.5 }');
    expectError(text, { path: 'jobs[0].restartBackoff.factor', at: '0.5', message: 'expected a number ≥ 1, got 0.5' });
  });

  it('initial must not exceed max', () => {
    const text = oneJob('name: "a", restartBackoff: { initial: "20s" }');
    expectError(text, {
      path: 'jobs[0].restartBackoff.initial',
      at: '"20s"',
      message: '`initial` (20000ms) must not be greater than `max` (10000ms)',
    });
  });

  it('refuses unknown members with a suggestion', () => {
    const text = oneJob('name: "a", restartBackoff: { reset: "1s" }');
    expectError(text, {
      path: 'jobs[0].restartBackoff.reset',
      at: 'reset',
      message: 'unknown field `reset`; did you mean `resetAfter`?',
      suggestion: 'resetAfter',
    });
    const t2 = oneJob('name: "a", restartBackoff: { intial: "1s" }');
    expectError(t2, {
      path: 'jobs[0].restartBackoff.intial',
      at: 'intial',
      message: 'unknown field `intial`; did you mean `initial`?',
      suggestion: 'initial',
    });
  });
});

describe('stopSignal', () => {
  it.each([
    [undefined, 'SIGTERM'],
    ['"SIGTERM"', 'SIGTERM'],
    ['"TERM"', 'SIGTERM'],
    ['"sigquit"', 'SIGQUIT'],
    ['"int"', 'SIGINT'],
    ['"SIGKILL"', 'SIGKILL'],
    ['"SIGWINCH"', 'SIGWINCH'],
  ])('%s → %s', (value, sig) => {
    expect(job(value === undefined ? 'name: "a"' : `name: "a", stopSignal: ${value}`).stopSignal).toBe(sig);
  });

  it('refuses SIGSTOP', () => {
    const text = oneJob('name: "a", stopSignal: "STOP"');
    expectError(text, {
      path: 'jobs[0].stopSignal',
      at: '"STOP"',
      message: 'SIGSTOP cannot be used to stop a job: it cannot be caught and only suspends the process',
    });
  });

  it('refuses unknown signals, suggesting a near one', () => {
    const t1 = oneJob('name: "a", stopSignal: "SIGFOO"');
    expectError(t1, {
      path: 'jobs[0].stopSignal',
      at: '"SIGFOO"',
      message: 'expected a signal name like "SIGTERM", "SIGQUIT" or "SIGINT", got "SIGFOO"',
    });
    const t2 = oneJob('name: "a", stopSignal: "SIGTREM"');
    expectError(t2, {
      path: 'jobs[0].stopSignal',
      at: '"SIGTREM"',
      message: /did you mean "SIGTERM"\?$/,
      suggestion: 'SIGTERM',
    });
    const t3 = oneJob('name: "a", stopSignal: 15');
    expectError(t3, { path: 'jobs[0].stopSignal', at: '15', message: /^expected a signal name .*, got 15$/ });
  });
});

describe('health', () => {
  it('normalizes; timeout defaults to the interval', () => {
    expect(job('name: "a", health: { exec: "/bin/check  -v", interval: 5, ttl: "10" }').health).toEqual({
      exec: ['/bin/check', '-v'],
      interval: 5000,
      ttl: 10_000,
      timeout: 5000,
      logging: { raw: false },
      ...HEALTH_DEFAULTS,
    });
  });

  it('accepts duration strings and its own timeout and logging', () => {
    expect(
      job('name: "a", health: { exec: ["c"], interval: "500ms", ttl: "2s", timeout: "100ms", logging: { raw: true } }')
        .health,
    ).toEqual({ exec: ['c'], interval: 500, ttl: 2000, timeout: 100, logging: { raw: true }, ...HEALTH_DEFAULTS });
  });

  it('is allowed without port', () => {
    expect(job(`name: "a", ${HEALTH}`).port).toBeUndefined();
  });

  it.each(['exec', 'interval', 'ttl'])('requires %s', (missing) => {
    const members = { exec: 'exec: "c"', interval: 'interval: 1', ttl: 'ttl: 5' };
    const body = Object.entries(members)
      .filter(([k]) => k !== missing)
      .map(([, v]) => v)
      .join(', ');
    const text = oneJob(`name: "a", health: { ${body} }`);
    const why = missing === 'exec' ? ': a health check needs one of `exec`, `http` or `tcp`' : '';
    expectError(text, {
      path: `jobs[0].health.${missing}`,
      at: '{ ',
      nth: 2,
      message: `missing required field \`${missing}\`${why}`,
    });
  });

  it.each([
    ['interval', '0', 'must be at least 1ms, got 0'],
    ['ttl', '"five"', 'expected a duration like "5s" or "300ms", or a whole number of seconds, got "five"'],
    ['timeout', '"xx"', 'expected a duration like "5s" or "300ms", or a whole number of seconds, got "xx"'],
    ['exec', '""', 'expected a command string or a non-empty array of arguments, got an empty string'],
  ])('refuses a bad %s', (fieldName, value, message) => {
    const members: Record<string, string> = { exec: '"c"', interval: '1', ttl: '5' };
    members[fieldName] = value;
    const body = Object.entries(members)
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ');
    const text = oneJob(`name: "a", health: { ${body} }`);
    expectError(text, {
      path: `jobs[0].health.${fieldName}`,
      at: `${fieldName}: ${value}`,
      skip: fieldName.length + 2,
      message,
    });
  });

  it('http: a URL, or {url, method, expectStatus}, instead of exec', () => {
    const h = (v: string) => job(`name: "a", health: { http: ${v}, interval: 1, ttl: 5 }`).health;
    expect(h('"http://127.0.0.1:8080/healthz"')).toEqual({
      http: { url: 'http://127.0.0.1:8080/healthz', method: 'GET' },
      interval: 1000,
      ttl: 5000,
      timeout: 1000,
      logging: { raw: false },
      ...HEALTH_DEFAULTS,
    });
    expect(h('{ url: "https://x/h", method: "head", expectStatus: 204 }')!.http).toEqual({
      url: 'https://x/h',
      method: 'HEAD',
      expectStatus: 204,
    });
    const bad = oneJob('name: "a", health: { http: "ftp://x", interval: 1, ttl: 5 }');
    expectError(bad, {
      path: 'jobs[0].health.http',
      at: '"ftp://x"',
      message: 'expected an http:// or https:// URL, got "ftp://x"',
    });
    const status = oneJob('name: "a", health: { http: { url: "http://x", expectStatus: 99 }, interval: 1, ttl: 5 }');
    expectError(status, {
      path: 'jobs[0].health.http.expectStatus',
      at: '99',
      message: 'expected an HTTP status from 100 to 599, got 99',
    });
    const method = oneJob('name: "a", health: { http: { url: "http://x", method: "GET /x" }, interval: 1, ttl: 5 }');
    expectError(method, {
      path: 'jobs[0].health.http.method',
      at: '"GET /x"',
      message: 'expected an HTTP method such as "GET" or "HEAD", got "GET /x"',
    });
  });

  it('tcp: "host:port" instead of exec', () => {
    const h = (v: string) => job(`name: "a", health: { tcp: ${v}, interval: 1, ttl: 5 }`).health!.tcp;
    expect(h('"127.0.0.1:5432"')).toEqual({ host: '127.0.0.1', port: 5432 });
    expect(h('"[::1]:80"')).toEqual({ host: '::1', port: 80 });
    expect(h('"db:6379"')).toEqual({ host: 'db', port: 6379 });
    const bad = oneJob('name: "a", health: { tcp: "localhost", interval: 1, ttl: 5 }');
    expectError(bad, {
      path: 'jobs[0].health.tcp',
      at: '"localhost"',
      message: 'expected "host:port", like "127.0.0.1:5432", got "localhost"',
    });
  });

  it('takes exactly one of exec, http and tcp', () => {
    const text = oneJob('name: "a", health: { exec: "c", tcp: "h:1", interval: 1, ttl: 5 }');
    expectError(text, {
      path: 'jobs[0].health.tcp',
      at: 'tcp',
      message: 'only one of `exec`, `http` or `tcp` may be set, got `exec` and `tcp`',
    });
  });
});

describe('port', () => {
  it('accepts a number or a numeric string; 0 means not registered', () => {
    expect(job(`name: "app", port: 8080, ${HEALTH}`).port).toBe(8080);
    expect(job(`name: "app", port: "8080", ${HEALTH}`).port).toBe(8080);
    expect(job('name: "app", port: 0').port).toBeUndefined();
  });

  it.each(['70000', '-1', '1.5', '"abc"', 'true'])('refuses %s', (value) => {
    const text = oneJob(`name: "app", port: ${value}, ${HEALTH}`);
    expectError(text, {
      path: 'jobs[0].port',
      at: `${value},`,
      message: /^expected a port number from 1 to 65535, got /,
    });
  });

  it('requires health', () => {
    const text = oneJob('name: "app", exec: "x", port: 80');
    expectError(text, {
      path: 'jobs[0].health',
      at: '80',
      message: 'missing required field `health`: a job with `port` is registered as a service and needs a health check',
    });
  });
});

describe('initial_status', () => {
  it('is kept for a registered job', () => {
    expect(job(`name: "app", port: 80, initial_status: "warning", ${HEALTH}`).initialStatus).toBe('warning');
  });

  it('must be passing, warning or critical', () => {
    const text = oneJob(`name: "app", port: 80, initial_status: "pasing", ${HEALTH}`);
    expectError(text, {
      path: 'jobs[0].initial_status',
      at: '"pasing"',
      message: 'expected one of "passing", "warning", "critical", got "pasing"; did you mean "passing"?',
      suggestion: 'passing',
    });
  });

  it('is ignored on a job without port, as ContainerPilot did', () => {
    expect(job('name: "b", initial_status: "invalid-value"').initialStatus).toBeUndefined();
  });

  it('must be a string even then', () => {
    const text = oneJob('name: "b", initial_status: 1');
    expectError(text, { path: 'jobs[0].initial_status', at: '1', message: 'expected a string, got 1' });
  });

  it('a camel-case spelling gets a suggestion', () => {
    const text = oneJob(`name: "app", port: 80, initialStatus: "passing", ${HEALTH}`);
    expectError(text, {
      path: 'jobs[0].initialStatus',
      at: 'initialStatus',
      message: 'unknown field `initialStatus`; did you mean `initial_status`?',
      suggestion: 'initial_status',
    });
  });
});

describe('tags, meta, interfaces, consul', () => {
  it('tags: an array, or one string', () => {
    expect(job('name: "a"').tags).toEqual([]);
    expect(job('name: "a", tags: ["x", "y"]').tags).toEqual(['x', 'y']);
    expect(job('name: "a", tags: "x"').tags).toEqual(['x']);
    const text = oneJob('name: "a", tags: ["x", 1]');
    expectError(text, { path: 'jobs[0].tags[1]', at: '1]', message: 'expected a string, got 1' });
  });

  it('meta: an object of strings under Consul rules', () => {
    expect(job('name: "a"').meta).toEqual({});
    expect(job('name: "a", meta: { version: "1", "a-b_c": "x" }').meta).toEqual({ version: '1', 'a-b_c': 'x' });
    const t1 = oneJob('name: "a", meta: { v: 1 }');
    expectError(t1, { path: 'jobs[0].meta.v', at: '1 }', message: 'expected a string, got 1' });
    const t2 = oneJob('name: "a", meta: { "consul-x": "y" }');
    expectError(t2, {
      path: 'jobs[0].meta["consul-x"]',
      at: '"consul-x"',
      message: 'meta keys starting with "consul-" are reserved by Consul',
    });
    const t3 = oneJob('name: "a", meta: { "a b": "y" }');
    expectError(t3, { path: 'jobs[0].meta["a b"]', at: '"a b"', message: /^meta key "a b" must be 1–128 letters/ });
    const t4 = oneJob('name: "a", meta: ["x"]');
    expectError(t4, { path: 'jobs[0].meta', at: '["x"]', message: 'expected an object of strings, got an array' });
  });

  it('interfaces: default, one string, a list; every spec checked', () => {
    expect(job('name: "a"').interfaces).toEqual(['eth0:inet', 'inet']);
    expect(job('name: "a", interfaces: []').interfaces).toEqual(['eth0:inet', 'inet']);
    expect(job('name: "a", interfaces: "inet"').interfaces).toEqual(['inet']);
    const all =
      '["eth0", "eth1[1]", "192.168.0.0/16", "2001:db8::/64", "eth2:inet", "eth2:inet6", "inet", "inet6", "static:192.168.1.100", "lo0"]';
    expect(job(`name: "a", interfaces: ${all}`).interfaces).toHaveLength(10);
    const text = oneJob('name: "a", interfaces: ["eth0", "eth0:inet4"]');
    expectError(text, {
      path: 'jobs[0].interfaces[1]',
      at: '"eth0:inet4"',
      message: /^"eth0:inet4": not an interface spec/,
    });
    const t2 = oneJob('name: "a", interfaces: "static:999.1.1.1"');
    expectError(t2, {
      path: 'jobs[0].interfaces',
      at: '"static:',
      message: '"static:999.1.1.1": "999.1.1.1" after static: is not an IP address',
    });
  });

  it('consul: enableTagOverride and deregisterCriticalServiceAfter', () => {
    expect(job('name: "a"').consul).toEqual({ enableTagOverride: false });
    expect(job('name: "a", consul: { enableTagOverride: true, deregisterCriticalServiceAfter: "10m" }').consul).toEqual(
      {
        enableTagOverride: true,
        deregisterCriticalServiceAfter: '10m',
      },
    );
    // ContainerPilot refused this (it parsed the empty deregister value); it is fine.
    expect(job('name: "a", consul: { enableTagOverride: true }').consul).toEqual({ enableTagOverride: true });
    const t1 = oneJob('name: "a", consul: { enableTagOverride: "nope" }');
    expectError(t1, {
      path: 'jobs[0].consul.enableTagOverride',
      at: '"nope"',
      message: 'expected true or false, got "nope"',
    });
    const t2 = oneJob('name: "a", consul: { deregisterCriticalServiceAfter: "nope" }');
    expectError(t2, {
      path: 'jobs[0].consul.deregisterCriticalServiceAfter',
      at: '"nope"',
      message: 'expected a duration string like "10m" or "90s", got "nope" (not a duration)',
    });
    const t3 = oneJob('name: "a", consul: { deregisterCriticalServiceAfter: 10 }');
    expectError(t3, {
      path: 'jobs[0].consul.deregisterCriticalServiceAfter',
      at: '10',
      message: 'expected a duration string like "10m" or "90s", got 10',
    });
  });
});

describe('unknown job fields', () => {
  it('suggest the nearest field', () => {
    const text = oneJob('name: "a", helth: {}');
    expectError(text, {
      path: 'jobs[0].helth',
      at: 'helth',
      message: 'unknown field `helth`; did you mean `health`?',
      suggestion: 'health',
    });
  });

  it('a near miss of an extension field is suggested too', () => {
    const text = oneJob('name: "a", dependOn: ["b"]');
    expectError(text, {
      path: 'jobs[0].dependOn',
      at: 'dependOn',
      message: 'unknown field `dependOn`; did you mean `dependsOn`?',
      suggestion: 'dependsOn',
    });
  });
});

describe('the jobs list', () => {
  it('must be an array of objects; null entries are skipped', () => {
    expectError('{ jobs: {} }', { path: 'jobs', at: '{}', message: 'expected an array of jobs, got an object' });
    expectError('{ jobs: ["x"] }', { path: 'jobs[0]', at: '"x"', message: 'expected a job object, got "x"' });
    const text = '{ jobs: [null, { name: "a" }] }';
    expect(check(text).jobs.map((j) => j.name)).toEqual(['a']);
  });
});
