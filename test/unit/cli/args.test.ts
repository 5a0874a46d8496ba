import { describe, expect, it } from 'vitest';
import type { FlagSpec } from '../../../src/cli/args.js';
import { parseArgs, UsageError } from '../../../src/cli/args.js';

const spec: Record<string, FlagSpec> = {
  config: { kind: 'string', help: 'config file', value: 'FILE' },
  template: { kind: 'boolean', help: 'render' },
  putenv: { kind: 'strings', help: 'env', value: 'K=V' },
};

describe('parseArgs', () => {
  it.each([
    [['-config', 'a.json5'], 'a.json5'],
    [['--config', 'a.json5'], 'a.json5'],
    [['-config=a.json5'], 'a.json5'],
    [['--config=a=b.json5'], 'a=b.json5'],
  ])('accepts %j', (argv, expected) => {
    expect(parseArgs(argv, spec).flags.config).toBe(expected);
  });

  it('takes booleans without a value, and -flag=false', () => {
    expect(parseArgs(['-template'], spec).flags.template).toBe(true);
    expect(parseArgs(['--template=false'], spec).flags.template).toBe(false);
    expect(() => parseArgs(['-template=maybe'], spec)).toThrow(UsageError);
  });

  it('repeats list flags and keeps positionals in order', () => {
    const r = parseArgs(['validate', '-putenv', 'A=1', 'x', '--putenv=B=2', '--', '-config'], spec);
    expect(r.flags.putenv).toEqual(['A=1', 'B=2']);
    expect(r.positionals).toEqual(['validate', 'x', '-config']);
  });

  it('rejects unknown flags with a suggestion, and missing values', () => {
    expect(() => parseArgs(['-confg', 'x'], spec)).toThrow(/unknown flag -confg; did you mean -config\?/);
    expect(() => parseArgs(['-config'], spec)).toThrow(/needs a value \(FILE\)/);
  });
});
