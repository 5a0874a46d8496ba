/**
 * A file can hold half a million bad values (1 MiB of `0,`): validation keeps the first
 * MAX_REPORTED problems and counts the rest, and positions are worked out for the first
 * MAX_PLACED values only, so an error-ridden file costs PID 1 bounded memory (issue 14, defect 10).
 */
import { describe, expect, it } from 'vitest';
import { ConfigErrors } from '../../../src/config/errors.js';
import { loadConfigText } from '../../../src/config/load.js';
import { MAX_PLACED, scanPositions } from '../../../src/config/parse.js';
import { MAX_REPORTED } from '../../../src/config/validate/core.js';

function thrown(text: string): ConfigErrors {
  try {
    loadConfigText(text, {}, 'bad.json5');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigErrors);
    return err as ConfigErrors;
  }
  throw new Error('expected configuration errors');
}

const errorsOf = (text: string) => thrown(text).errors;

const jobs = (n: number) => `{\n  jobs: [\n${'    0,\n'.repeat(n)}  ],\n}\n`;

describe('a file full of problems', () => {
  it(`lists the first ${MAX_REPORTED} problems, in file order, and says how many more there are`, () => {
    const err = thrown(jobs(1000));
    expect(err.total).toBe(1000);
    const errors = err.errors;
    expect(errors).toHaveLength(MAX_REPORTED + 1);
    expect(errors.slice(0, MAX_REPORTED).map((e) => [e.path, e.line])).toEqual(
      Array.from({ length: MAX_REPORTED }, (_, i) => [`jobs[${i}]`, 3 + i]),
    );
    expect(errors.at(-1)!.toString()).toBe(
      `bad.json5: and ${1000 - MAX_REPORTED} more problems (only the first ${MAX_REPORTED} are listed)`,
    );
  });

  it(`lists all of exactly ${MAX_REPORTED} problems, with no summary`, () => {
    const errors = errorsOf(jobs(MAX_REPORTED));
    expect(errors).toHaveLength(MAX_REPORTED);
    expect(errors.every((e) => e.path.startsWith('jobs['))).toBe(true);
  });

  it('checks nothing more once a problem is found, whether it was listed or not', () => {
    // A job depending on itself: dependencies are resolved only when nothing else is wrong, so
    // past the hundredth problem it is not reported and not counted either.
    const selfish = '{ name: "a", exec: "true", dependsOn: ["a"] }';
    expect(errorsOf(`{ jobs: [ ${selfish} ] }`).map((e) => e.message)).toEqual([
      expect.stringMatching(/cannot depend on itself/),
    ]);
    const errors = errorsOf(`{ jobs: [ ${'0, '.repeat(150)} ${selfish} ] }`);
    expect(errors.at(-1)!.message).toBe(
      `and ${150 - MAX_REPORTED} more problems (only the first ${MAX_REPORTED} are listed)`,
    );
  });
});

describe('positions of a file with very many values', () => {
  it(`places the first ${MAX_PLACED} values only; a later one points at its nearest placed ancestor`, () => {
    const text = `{ list: [${'0,'.repeat(MAX_PLACED + 5000)}] }`;
    const positions = scanPositions(text);
    expect(positions.size).toBe(MAX_PLACED);
    expect(positions.get('list')).toMatchObject({ line: 1, column: 9 });
    expect(positions.has(`list[${MAX_PLACED + 100}]`)).toBe(false);
  });
});
