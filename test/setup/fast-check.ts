/**
 * Property tests (fast-check) run from a fixed seed, so the suite gives the same verdict on
 * every run and machine; `FC_SEED=random npm test` explores new cases, and `FC_SEED=N` replays
 * a failure that printed seed N. A test that sets its own seed keeps it.
 */
import fc from 'fast-check';

const FIXED_SEED = 20261202;
const wanted = process.env.FC_SEED;
if (wanted !== 'random') {
  const seed = wanted === undefined || wanted === '' ? FIXED_SEED : Number(wanted);
  if (!Number.isSafeInteger(seed)) throw new Error(`FC_SEED must be an integer or "random", got "${wanted}"`);
  fc.configureGlobal({ seed });
}
