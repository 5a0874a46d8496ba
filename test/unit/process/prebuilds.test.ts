/**
 * The committed prebuilt addons (prebuilds/, made by `npm run prebuilds`): built from the
 * native sources as they are now, and each for the machine its folder and name promise.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain ES module script without types
import { sourceDigests, TARGETS } from '../../../scripts/prebuild.mjs';
import { ROOT } from '../../integration/support.js';

const ELF_MACHINE: Record<string, number> = { x64: 62, arm64: 183 };

describe('prebuilt native addons', () => {
  it('were built from the current native/ sources (else run `npm run prebuilds` and commit prebuilds/)', () => {
    expect(sourceDigests(ROOT)).toBe(readFileSync(join(ROOT, 'prebuilds', 'SOURCES.sha256'), 'utf8'));
  });

  it.each(TARGETS as { dir: string; file: string }[])(
    '$dir/$file is a shared object for that machine and libc',
    ({ dir, file }) => {
      const elf = readFileSync(join(ROOT, 'prebuilds', dir, file));
      expect(elf.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
      expect(elf.readUInt16LE(16)).toBe(3); // ET_DYN
      expect(elf.readUInt16LE(18)).toBe(ELF_MACHINE[dir.split('-')[1]]);
      const text = elf.toString('latin1');
      if (file.includes('.musl.')) {
        // musl's libc, and no glibc symbol versions (it must load with musl's dynamic linker).
        expect(text).toContain('libc.so\0');
        expect(text).not.toContain('GLIBC_');
      } else {
        expect(text).toContain('libc.so.6\0');
        // Loads where Node's own binaries do: no symbol version newer than glibc 2.28.
        const versions = [...text.matchAll(/GLIBC_2\.(\d+)/g)].map((m) => Number(m[1]));
        expect(Math.max(...versions)).toBeLessThanOrEqual(28);
      }
      expect(text).toContain('napi_register_module_v1');
    },
  );
});
