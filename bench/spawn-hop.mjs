// ms per sequential spawn + exit ("hop") of /bin/true: the native addon vs the
// node:child_process fallback vs a bare child_process.spawn.
//
//   node bench/spawn-hop.mjs [hops=1000] [--heap-mb=N]
// (src/process/ is bundled for it on the fly: scripts/bundle-module.mjs)
//
// --heap-mb grows pidpilot's heap first (fork copies page tables: its cost grows with
// the heap; the addon's clone(CLONE_VM|CLONE_VFORK) does not).
import { spawn as cpSpawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { bundleDir, bundleModule, ROOT } from '../scripts/bundle-module.mjs';

// One bundle for both, so they share the spawner's state (live groups, the addon).
const dir = bundleDir('pidpilot-bench-');
const entry = join(dir, 'entry.ts');
writeFileSync(
  entry,
  ['spawn', 'run'].map((m) => `export * from ${JSON.stringify(join(ROOT, 'src/process', `${m}.ts`))};`).join('\n'),
);
const { spawnerFor, ProcessRun } = await import(pathToFileURL(await bundleModule(entry, dir)).href);
rmSync(dirname(entry), { recursive: true, force: true });

const args = process.argv.slice(2);
const hops = Number(args.find((a) => /^\d+$/.test(a)) ?? 1000);
const heapMb = Number(args.find((a) => a.startsWith('--heap-mb='))?.split('=')[1] ?? 0);

const ballast = [];
for (let i = 0; i < heapMb; i++) ballast.push(new Array(1024 * 128).fill(i)); // ~1 MB each

const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
const request = (stdio) => ({ argv: ['/bin/true'], env, stdout: stdio, stderr: stdio });

function drained(child) {
  return Promise.all(
    [child.stdout, child.stderr].map((s) => (s ? new Promise((r) => s.on('close', r).resume()) : null)),
  );
}

const variants = {
  'native (ignore)': async () => {
    await spawnerFor('native')(request('ignore')).exited;
  },
  'native (pipe)': async () => {
    const c = spawnerFor('native')(request('pipe'));
    await Promise.all([c.exited, drained(c)]);
  },
  'native ProcessRun (pipe)': async () => {
    const r = ProcessRun.start({ ...request('pipe'), stopSignal: 'SIGTERM', spawn: spawnerFor('native') });
    r.child.stdout.resume();
    r.child.stderr.resume();
    await r.result;
  },
  'node fallback (ignore)': async () => {
    await spawnerFor('node')(request('ignore')).exited;
  },
  'node fallback (pipe)': async () => {
    const c = spawnerFor('node')(request('pipe'));
    await Promise.all([c.exited, drained(c)]);
  },
  'bare child_process.spawn (ignore)': () =>
    new Promise((resolve, reject) =>
      cpSpawn('/bin/true', [], { stdio: 'ignore' }).on('exit', resolve).on('error', reject),
    ),
};

const rss = () => Math.round(process.memoryUsage().rss / 2 ** 20);
console.log(`${hops} hops of /bin/true per variant, rss ${rss()} MB, node ${process.version}`);
// Rounds interleave the variants, so a burst of load elsewhere hits them all alike;
// each variant reports its median round.
const ROUNDS = 10;
const perRound = Math.max(1, Math.round(hops / ROUNDS));
const samples = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
for (const hop of Object.values(variants)) for (let i = 0; i < 50; i++) await hop(); // warm up
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, hop] of Object.entries(variants)) {
    const t0 = performance.now();
    for (let i = 0; i < perRound; i++) await hop();
    samples[name].push((performance.now() - t0) / perRound);
  }
}
for (const [name, ms] of Object.entries(samples)) {
  ms.sort((a, b) => a - b);
  const median = ms[Math.floor(ms.length / 2)];
  console.log(
    `${name.padEnd(36)} ${median.toFixed(3)} ms/hop  (rounds: ${ms[0].toFixed(3)} … ${ms[ms.length - 1].toFixed(3)})`,
  );
}
void ballast.length;
