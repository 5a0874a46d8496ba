/** Top-level sections, watches, telemetry, defaults, and error collection. */
import { describe, expect, it } from 'vitest';
import { ConfigErrors } from '../../../src/config/errors.js';
import { validateConfig } from '../../../src/config/validate/config.js';
import { check, errorsOf, expectError, expectMatches, FILE } from './helpers.js';

describe('the top level', () => {
  it.each([
    ['[]', 'an array'],
    ['"x"', '"x"'],
    ['5', '5'],
    ['null', 'null'],
    ['true', 'true'],
  ])('%s is not a configuration', (text, got) => {
    const e = expectError(text, {
      path: '',
      at: text,
      message: `expected an object at the top level, like { jobs: [ … ] }, got ${got}`,
    });
    expect(e.toString()).toBe(`${FILE}:1:1: expected an object at the top level, like { jobs: [ … ] }, got ${got}`);
  });

  it('validateConfig never throws anything but ConfigErrors, even without positions', () => {
    for (const raw of [undefined, null, 1, 'x', [], () => 1, Symbol('s'), { jobs: [{ name: Symbol('x') }] }]) {
      try {
        validateConfig(raw, { file: 'f' });
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigErrors);
      }
    }
  });

  it('{} is valid and gets every default', () => {
    expect(check('{}')).toEqual({
      file: FILE,
      logging: { level: 'info', format: 'default', output: 'stdout' },
      jobs: [],
      watches: [],
      control: {},
      stopTimeout: 5000,
      state: { keepRuns: 20, maxEventLogBytes: 10 * 1024 * 1024 },
    });
  });

  it('records the absolute path when given', () => {
    const { value } = { value: {} };
    expect(validateConfig(value, { file: 'rel.json5', absolutePath: '/abs/rel.json5' }).file).toBe('/abs/rel.json5');
  });

  it('unknown fields get the nearest name', () => {
    const text = '{\n  loging: {},\n}';
    expectError(text, {
      path: 'loging',
      at: 'loging',
      message: 'unknown field `loging`; did you mean `logging`?',
      suggestion: 'logging',
    });
    expectError('{ job: [] }', {
      path: 'job',
      at: 'job',
      message: 'unknown field `job`; did you mean `jobs`?',
      suggestion: 'jobs',
    });
    const e = expectError('{ "strange key": 1 }', {
      path: '["strange key"]',
      at: '"strange',
      message: 'unknown field `strange key`',
    });
    expect(e.expected).toBe(
      'one of `consul`, `logging`, `jobs`, `watches`, `control`, `telemetry`, `dashboard`, `stopTimeout`, `state`, `main`, `envFile`',
    );
  });

  it('null members count as absent (as in ContainerPilot)', () => {
    expect(check('{ consul: null, jobs: null, telemetry: null }')).toMatchObject({ jobs: [] });
    expect(check('{ consul: null }').consul).toBeUndefined();
  });
});

describe('all errors are reported together, in file order', () => {
  it('three mistakes, three errors', () => {
    const text = [
      '{',
      '  jobs: [',
      '    { name: "web", exec: "x", restarts: "sometimes" },',
      '    { name: "cron", exec: "y", when: { interval: "five minutes" } },',
      '  ],',
      '  logging: { level: "LOUD" },',
      '}',
    ].join('\n');
    const errs = errorsOf(text);
    expect(errs).toHaveLength(3);
    expectMatches(errs[0], text, {
      path: 'jobs[0].restarts',
      at: '"sometimes"',
      message: 'expected "unlimited", "never", or a non-negative integer, got "sometimes"',
    });
    expectMatches(errs[1], text, {
      path: 'jobs[1].when.interval',
      at: '"five minutes"',
      message: 'expected a duration like "5s" or "300ms", or a whole number of seconds, got "five minutes"',
    });
    expectMatches(errs[2], text, {
      path: 'logging.level',
      at: '"LOUD"',
      message: 'expected one of "debug", "info", "warn", "error", "fatal", "panic", got "LOUD"',
    });
  });

  it('the message lists them one per line', () => {
    try {
      check('{ a: 1, b: 2 }');
      expect.unreachable();
    } catch (err) {
      expect((err as ConfigErrors).message).toBe(
        `${FILE}:1:3: a: unknown field \`a\`\n${FILE}:1:9: b: unknown field \`b\``,
      );
    }
  });
});

describe('consul', () => {
  it.each([
    ['"localhost:8500"', { address: 'localhost:8500', scheme: 'http' }],
    ['"http://consul:8500"', { address: 'consul:8500', scheme: 'http' }],
    ['"https://consul:8501"', { address: 'consul:8501', scheme: 'https' }],
    ['"HTTPS://consul:8501"', { address: 'consul:8501', scheme: 'https' }],
    ['"consul"', { address: 'consul', scheme: 'http' }],
    ['"unix:///var/run/consul.sock"', { address: 'unix:///var/run/consul.sock', scheme: 'http' }],
  ])('string %s', (value, want) => {
    expect(check(`{ consul: ${value} }`).consul).toEqual(want);
  });

  it.each([
    ['""', 'expected "host:port", "http://host:port" or "https://host:port", got ""'],
    ['"https://"', 'expected "host:port", "http://host:port" or "https://host:port", got "https://"'],
    ['"a b:1"', 'expected "host:port", "http://host:port" or "https://host:port", got "a b:1"'],
    ['"tcp://consul:8500"', 'unsupported scheme "tcp://" in "tcp://consul:8500"'],
    ['5', 'expected an address string or an object, got 5'],
  ])('refuses %s', (value, message) => {
    expectError(`{ consul: ${value} }`, { path: 'consul', at: value, message });
  });

  it('object form, every field', () => {
    const text = `{ consul: {
      address: "consul.example.com:8500", scheme: "HTTPS", token: "t",
      tls: { cafile: "ca.crt", capath: "certs/", clientcert: "c.crt", clientkey: "c.key", servername: "consul", verify: "true" },
    } }`;
    expect(check(text).consul).toEqual({
      address: 'consul.example.com:8500',
      scheme: 'https',
      token: 't',
      tls: {
        cafile: 'ca.crt',
        capath: 'certs/',
        clientcert: 'c.crt',
        clientkey: 'c.key',
        servername: 'consul',
        verify: true,
      },
    });
  });

  it('object form leaves out what the file leaves out (the environment fills it later)', () => {
    expect(check('{ consul: {} }').consul).toEqual({});
    expect(check('{ consul: { token: "" } }').consul).toEqual({});
    expect(check('{ consul: { address: "https://c:8501" } }').consul).toEqual({ address: 'c:8501', scheme: 'https' });
    expect(check('{ consul: { scheme: "https" } }').consul).toEqual({ scheme: 'https' });
  });

  it('refuses a scheme that contradicts the address', () => {
    const text = '{ consul: { address: "https://c:8501", scheme: "http" } }';
    expectError(text, {
      path: 'consul.scheme',
      at: '"http" }',
      message: '"http" contradicts the https:// in `address`',
    });
  });

  it('refuses unknown schemes and TLS fields', () => {
    expectError('{ consul: { scheme: "ftp" } }', {
      path: 'consul.scheme',
      at: '"ftp"',
      message: 'expected one of "http", "https", got "ftp"',
    });
    expectError('{ consul: { tls: { verfy: true } } }', {
      path: 'consul.tls.verfy',
      at: 'verfy',
      message: 'unknown field `verfy`; did you mean `verify`?',
      suggestion: 'verify',
    });
  });
});

describe('logging', () => {
  it.each([
    ['DEBUG', 'debug'],
    ['Info', 'info'],
    ['warn', 'warn'],
    ['WARNING', 'warn'],
    ['error', 'error'],
    ['FATAL', 'fatal'],
    ['panic', 'panic'],
  ])('level %s → %s', (level, want) => {
    expect(check(`{ logging: { level: "${level}" } }`).logging.level).toBe(want);
  });

  it('refuses an unknown level with a suggestion', () => {
    expectError('{ logging: { level: "INFOO" } }', {
      path: 'logging.level',
      at: '"INFOO"',
      message: 'expected one of "debug", "info", "warn", "error", "fatal", "panic", got "INFOO"; did you mean "info"?',
      suggestion: 'info',
    });
  });

  it('names of Object.prototype members are not levels', () => {
    expectError('{ logging: { level: "constructor" } }', {
      path: 'logging.level',
      at: '"constructor"',
      message: 'expected one of "debug", "info", "warn", "error", "fatal", "panic", got "constructor"',
    });
  });

  it('format any case; output stdout/stderr any case, else a path', () => {
    expect(check('{ logging: { format: "JSON", output: "STDERR" } }').logging).toEqual({
      level: 'info',
      format: 'json',
      output: 'stderr',
    });
    expect(check('{ logging: { output: "/var/log/pp.log" } }').logging.output).toBe('/var/log/pp.log');
    expectError('{ logging: { format: "xml" } }', {
      path: 'logging.format',
      at: '"xml"',
      message: 'expected one of "default", "text", "json", got "xml"',
    });
    expectError('{ logging: { output: "" } }', {
      path: 'logging.output',
      at: '""',
      message: 'expected a non-empty string, got ""',
    });
  });
});

describe('stopTimeout, control, state, main', () => {
  it('stopTimeout: seconds or a duration; 0 means the default', () => {
    expect(check('{ stopTimeout: 8 }').stopTimeout).toBe(8000);
    expect(check('{ stopTimeout: "2500ms" }').stopTimeout).toBe(2500);
    expect(check('{ stopTimeout: 0 }').stopTimeout).toBe(5000);
    expectError('{ stopTimeout: "-1s" }', {
      path: 'stopTimeout',
      at: '"-1s"',
      message: 'must not be negative, got "-1s"',
    });
  });

  it('control.socket', () => {
    expect(check('{ control: { socket: "/tmp/cp.sock" } }').control).toEqual({ socket: '/tmp/cp.sock' });
    expectError('{ control: { socket: "" } }', {
      path: 'control.socket',
      at: '""',
      message: 'expected a non-empty string, got ""',
    });
    expectError('{ control: { sock: "/x" } }', {
      path: 'control.sock',
      at: 'sock',
      message: 'unknown field `sock`; did you mean `socket`?',
      suggestion: 'socket',
    });
  });

  it('state', () => {
    expect(check('{ state: { dir: "/data", keepRuns: 0, maxEventLogBytes: "2048" } }').state).toEqual({
      dir: '/data',
      keepRuns: 0,
      maxEventLogBytes: 2048,
    });
    expect(check('{ state: {} }').state).toEqual({ keepRuns: 20, maxEventLogBytes: 10485760 });
    expectError('{ state: { keepRuns: -1 } }', {
      path: 'state.keepRuns',
      at: '-1',
      message: 'expected an integer ≥ 0, got -1',
    });
    expectError('{ state: { maxEventLogBytes: 100 } }', {
      path: 'state.maxEventLogBytes',
      at: '100',
      message: 'expected a number of bytes ≥ 1024, got 100',
    });
  });

  it('main must name a job', () => {
    expect(check('{ main: "app", jobs: [{ name: "app", exec: "x" }] }').main).toBe('app');
    const text = '{ main: "ap", jobs: [{ name: "app", exec: "x" }] }';
    expectError(text, {
      path: 'main',
      at: '"ap"',
      message: 'no job named "ap"; did you mean "app"?',
      suggestion: 'app',
    });
    expectError('{ main: "x" }', { path: 'main', at: '"x"', message: 'no job named "x"' });
  });

  it('main naming a job that has its own errors reports only those', () => {
    const text = '{ main: "app", jobs: [{ name: "app", exec: "" }] }';
    expectError(text, { path: 'jobs[0].exec', at: '""', message: /^expected a command string/ });
  });
});

describe('watches', () => {
  it('normalizes; interval in seconds or a duration', () => {
    expect(
      check(
        '{ watches: [{ name: "app", interval: 10, tag: "prod", dc: "us-east-1" }, { name: "db", interval: "500ms" }] }',
      ).watches,
    ).toEqual([
      { name: 'app', interval: 10_000, tag: 'prod', dc: 'us-east-1' },
      { name: 'db', interval: 500 },
    ]);
  });

  it('requires name and interval', () => {
    const text = '{ watches: [{ tag: "x" }] }';
    const errs = errorsOf(text);
    expect(errs.map((e) => [e.path, e.message])).toEqual([
      ['watches[0].name', 'missing required field `name`'],
      ['watches[0].interval', 'missing required field `interval`'],
    ]);
    expectMatches(errs[0], text, { path: 'watches[0].name', at: '{ tag', message: 'missing required field `name`' });
  });

  it('name is a service name', () => {
    expectError('{ watches: [{ name: "my_db", interval: 5 }] }', {
      path: 'watches[0].name',
      at: '"my_db"',
      message: /^service name "my_db" is not valid/,
    });
  });

  it('interval must be positive', () => {
    expectError('{ watches: [{ name: "db", interval: 0 }] }', {
      path: 'watches[0].interval',
      at: '0 }',
      message: 'must be at least 1ms, got 0',
    });
  });

  it('names are unique', () => {
    const text = '{ watches: [{ name: "db", interval: 5 }, { name: "db", interval: 6 }] }';
    expectError(text, {
      path: 'watches[1].name',
      at: '"db"',
      nth: 1,
      message: 'duplicate watch name "db" (also watches[0])',
    });
  });

  it('unknown fields and wrong shapes', () => {
    expectError('{ watches: [{ name: "db", interval: 5, tags: "x" }] }', {
      path: 'watches[0].tags',
      at: 'tags',
      message: 'unknown field `tags`; did you mean `tag`?',
      suggestion: 'tag',
    });
    expectError('{ watches: {} }', {
      path: 'watches',
      at: '{}',
      message: 'expected an array of watches, got an object',
    });
  });
});

describe('telemetry', () => {
  it('defaults', () => {
    expect(check('{ telemetry: {} }').telemetry).toEqual({
      port: 9090,
      interfaces: ['eth0:inet', 'inet'],
      tags: [],
      metrics: [],
    });
  });

  it('normalizes metrics', () => {
    const text = `{ telemetry: { port: "9000", interfaces: "eth0", tags: ["dev"], metrics: [
      { namespace: "org", subsystem: "app", name: "zed", help: "zeds", type: "gauge" },
      { name: "req_seconds", help: "latency", type: "histogram", buckets: [0.1, 1, 10] },
    ] } }`;
    expect(check(text).telemetry).toEqual({
      port: 9000,
      interfaces: ['eth0'],
      tags: ['dev'],
      metrics: [
        { namespace: 'org', subsystem: 'app', name: 'zed', help: 'zeds', type: 'gauge' },
        { name: 'req_seconds', help: 'latency', type: 'histogram', buckets: [0.1, 1, 10] },
      ],
    });
  });

  it('metric name, help and type are required', () => {
    const errs = errorsOf('{ telemetry: { metrics: [{}] } }');
    expect(errs.map((e) => e.path)).toEqual([
      'telemetry.metrics[0].name',
      'telemetry.metrics[0].help',
      'telemetry.metrics[0].type',
    ]);
  });

  it('type must be known', () => {
    expectError('{ telemetry: { metrics: [{ name: "x", help: "h", type: "gage" }] } }', {
      path: 'telemetry.metrics[0].type',
      at: '"gage"',
      message: 'expected one of "counter", "gauge", "histogram", "summary", got "gage"; did you mean "gauge"?',
      suggestion: 'gauge',
    });
  });

  it('the exposed name must be a Prometheus name', () => {
    expectError('{ telemetry: { metrics: [{ namespace: "my-ns", name: "x", help: "h", type: "counter" }] } }', {
      path: 'telemetry.metrics[0].name',
      at: '"x"',
      message: /^metric name "my-ns_x" is not valid for Prometheus/,
    });
  });

  it('exposed names are unique', () => {
    const text = `{ telemetry: { metrics: [
      { namespace: "a", name: "b", help: "h", type: "counter" },
      { name: "a_b", help: "h", type: "gauge" },
    ] } }`;
    expectError(text, {
      path: 'telemetry.metrics[1].name',
      at: '"a_b"',
      message: 'duplicate metric "a_b" (also metrics[0])',
    });
  });

  it('buckets: histograms only, increasing', () => {
    expectError('{ telemetry: { metrics: [{ name: "x", help: "h", type: "counter", buckets: [1] }] } }', {
      path: 'telemetry.metrics[0].buckets',
      at: 'buckets',
      message: '`buckets` applies only to metrics of type "histogram"',
    });
    expectError('{ telemetry: { metrics: [{ name: "x", help: "h", type: "histogram", buckets: [1, 1] }] } }', {
      path: 'telemetry.metrics[0].buckets[1]',
      at: '1]',
      message: 'bucket bounds must increase: 1 follows 1',
    });
    expectError('{ telemetry: { metrics: [{ name: "x", help: "h", type: "histogram", buckets: [] }] } }', {
      path: 'telemetry.metrics[0].buckets',
      at: '[]',
      message: 'expected a non-empty array of increasing numbers, got an array',
    });
  });

  it('port and interfaces are checked', () => {
    expectError('{ telemetry: { port: 0 } }', {
      path: 'telemetry.port',
      at: '0',
      message: 'expected a port number from 1 to 65535, got 0',
    });
    expectError('{ telemetry: { interfaces: ["eth0", "nope!"] } }', {
      path: 'telemetry.interfaces[1]',
      at: '"nope!"',
      message: /^"nope!": not an interface spec/,
    });
  });
});
