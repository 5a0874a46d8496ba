// Baseline of the chain-hop benchmark: a bare Node script doing what one hop of a job
// chain minimally costs — spawn `/bin/true` like a job (own session, stdout/stderr piped and
// read), await its exit, spawn the next. Prints {"n":…, "msPerSpawn":…} on stdout.
//
//   node bench/workloads/spawn-chain.js [N=200]
import { spawn } from 'node:child_process';

const n = Number(process.argv[2] ?? 200);

function once() {
  return new Promise((resolve, reject) => {
    const c = spawn('/bin/true', [], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    c.stdout.resume();
    c.stderr.resume();
    c.once('error', reject);
    c.once('exit', resolve);
  });
}

const t0 = process.hrtime.bigint();
for (let i = 0; i < n; i++) await once();
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
process.stdout.write(JSON.stringify({ n, msPerSpawn: ms / n }) + '\n');
