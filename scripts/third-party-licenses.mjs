// THIRD_PARTY_LICENSES: the license notices of every npm package whose code is bundled into
// dist/ (the bundle and dist/vendor/). Their licenses (MIT, Apache-2.0, ISC, ...) require the
// notice to travel with the code, and the bundles are minified without legal comments, so
// the notices are gathered here from the packages' own license files. Which packages: the
// inputs esbuild reports in its metafile (node_modules/<name>/... or node_modules/@s/<name>/...).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The package directories (relative, e.g. node_modules/pino) among a metafile's inputs. */
export function bundledPackageDirs(metafiles) {
  const dirs = new Set();
  for (const meta of metafiles) {
    for (const input of Object.keys(meta.inputs)) {
      const m = /^(.*?node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
      if (m) dirs.add(m[1]);
    }
  }
  return [...dirs].sort();
}

/** Writes `outfile` with one section per bundled package; returns the package names. */
export function writeThirdPartyLicenses(metafiles, outfile) {
  const sections = [];
  const names = [];
  for (const dir of bundledPackageDirs(metafiles)) {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const files = readdirSync(dir)
      .filter((f) => /^(licen[cs]e|copying|notice)(\.|$|-)/i.test(f))
      .sort();
    if (files.length === 0)
      throw new Error(`${pkg.name}: no license file in ${dir}; add its notice by hand here before bundling it`);
    const text = files.map((f) => readFileSync(join(dir, f), 'utf8').trim()).join('\n\n');
    names.push(pkg.name);
    sections.push(
      `${'='.repeat(78)}\n${pkg.name}@${pkg.version} (${pkg.license ?? 'see below'})\n${'='.repeat(78)}\n\n${text}\n`,
    );
  }
  const head = 'pidpilot bundles code of the following packages; their license notices follow.\n\n';
  writeFileSync(outfile, head + [...new Set(sections)].join('\n'));
  return names;
}
