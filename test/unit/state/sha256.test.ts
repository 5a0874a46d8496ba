import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../../src/state/sha256.js';

const nodeSha256 = (s: string) => createHash('sha256').update(s).digest('hex');

describe('sha256Hex (the project directory hash without node:crypto)', () => {
  it('gives the FIPS 180-4 digests of the standard test messages', () => {
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toBe(
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
  });

  it('agrees with node:crypto at every length around the block and padding boundaries', () => {
    for (let n = 0; n <= 200; n++) {
      const s = 'x'.repeat(n);
      expect(sha256Hex(s), `length ${n}`).toBe(nodeSha256(s));
    }
  });

  it('agrees with node:crypto on any string, hashed as UTF-8 (paths joined with NUL, non-ASCII names)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary', maxLength: 120 }), { maxLength: 4 }), (parts) => {
        const s = parts.join('\0');
        expect(sha256Hex(s)).toBe(nodeSha256(s));
      }),
      { numRuns: 300 },
    );
  });
});
