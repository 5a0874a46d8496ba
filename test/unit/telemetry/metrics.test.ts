/** Metrics pidpilot adds to ContainerPilot's, read from their source at scrape time. */
import { describe, expect, it } from 'vitest';
import { loadMetrics } from '../../../src/telemetry/metrics.js';

describe('pidpilot_history_dropped_records_total', () => {
  it('counts the history records the store dropped, as a counter that follows the store', async () => {
    let dropped = 0;
    const m = await loadMetrics(
      { port: 0, interfaces: [], tags: [], metrics: [] },
      { jobs: () => [], historyDropped: () => dropped },
    );
    const value = async (): Promise<string | undefined> =>
      /^pidpilot_history_dropped_records_total (\S+)$/m.exec((await m.text()).body)?.[1];
    expect(await value()).toBe('0');
    dropped = 7;
    expect(await value()).toBe('7');
    dropped = 12;
    expect(await value()).toBe('12');
  });
});
