import { describe, expect, it } from 'vitest';
import { Bus } from '../../../src/events/bus.js';
import type { BusEvent } from '../../../src/events/event.js';
import { AsyncQueue } from '../../../src/events/queue.js';

async function drain(sub: { next(): Promise<IteratorResult<BusEvent>> }, count: number): Promise<BusEvent[]> {
  const out: BusEvent[] = [];
  while (out.length < count) {
    const r = await sub.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

describe('AsyncQueue', () => {
  it('delivers in order to a waiting and a late consumer', async () => {
    const q = new AsyncQueue<number>();
    const first = q.next();
    q.push(1);
    q.push(2);
    q.push(3);
    expect(await first).toEqual({ value: 1, done: false });
    expect((await q.next()).value).toBe(2);
    expect((await q.next()).value).toBe(3);
  });

  it('delivers queued items after close, then ends', async () => {
    const q = new AsyncQueue<number>();
    q.push(1);
    q.close();
    q.push(2);
    expect(await q.next()).toEqual({ value: 1, done: false });
    expect((await q.next()).done).toBe(true);
  });

  it('wakes a waiting consumer on close', async () => {
    const q = new AsyncQueue<number>();
    const waiting = q.next();
    q.close();
    expect((await waiting).done).toBe(true);
  });

  it('survives many items (compaction keeps order)', async () => {
    const q = new AsyncQueue<number>();
    const got: number[] = [];
    for (let i = 0; i < 5000; i++) {
      q.push(i);
      if (i % 3 === 0) got.push((await q.next()).value as number);
    }
    while (q.length > 0) got.push((await q.next()).value as number);
    expect(got).toEqual(Array.from({ length: 5000 }, (_, i) => i));
  });
});

describe('Bus', () => {
  it('stamps a strictly increasing global sequence', () => {
    const bus = new Bus();
    const a = bus.publish('startup', 'global');
    const b = bus.publish('exitSuccess', 'x');
    expect(a.seq).toBe(1);
    expect(b.seq).toBe(2);
    expect(bus.lastSeq).toBe(2);
  });

  it('every subscriber sees the same global order under concurrent publishers', async () => {
    const bus = new Bus();
    const subs = Array.from({ length: 8 }, (_, i) => bus.subscribe(`s${i}`));
    // Many concurrent "publishers": interleaved async tasks publishing at random points.
    const publishers = Array.from({ length: 10 }, async (_, p) => {
      for (let i = 0; i < 200; i++) {
        if ((i + p) % 3 === 0) await new Promise((r) => setImmediate(r));
        else await Promise.resolve();
        bus.publish('changed', `p${p}-${i}`);
      }
    });
    const seen = subs.map((s) => drain(s, 2000));
    await Promise.all(publishers);
    const results = await Promise.all(seen);
    const reference = results[0]!.map((e) => e.seq);
    expect(reference).toHaveLength(2000);
    expect(reference).toEqual([...reference].sort((x, y) => x - y));
    for (const r of results) expect(r.map((e) => e.seq)).toEqual(reference);
  });

  it('filtered subscribers receive a subsequence in global order', async () => {
    const bus = new Bus();
    const odd = bus.subscribe('odd', (_c, source) => Number(source) % 2 === 1);
    for (let i = 0; i < 100; i++) bus.publish('changed', String(i));
    const got = await drain(odd, 50);
    expect(got.map((e) => Number(e.source))).toEqual(Array.from({ length: 50 }, (_, i) => 2 * i + 1));
    expect(got.map((e) => e.seq)).toEqual([...got.map((e) => e.seq)].sort((a, b) => a - b));
  });

  it('a slow subscriber does not delay publishers or other subscribers', async () => {
    const bus = new Bus();
    const slow = bus.subscribe('slow');
    const fast = bus.subscribe('fast');
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slowSeen: number[] = [];
    const slowLoop = (async () => {
      for (;;) {
        const r = await slow.next();
        if (r.done) return;
        slowSeen.push(r.value.seq);
        await gate; // stuck on its first event until released
      }
    })();
    for (let i = 0; i < 100; i++) bus.publish('changed', 'x');
    // The fast subscriber gets everything while the slow one is still stuck on event 1.
    const fastSeen = await drain(fast, 100);
    expect(fastSeen).toHaveLength(100);
    expect(slowSeen).toEqual([1]);
    release();
    slow.close();
    await slowLoop;
    expect(slowSeen).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  });

  it('observers see events synchronously; re-entrant publishing keeps strict order', async () => {
    const bus = new Bus();
    const sub = bus.subscribe('all');
    const observed: string[] = [];
    bus.observe((e) => {
      observed.push(`${e.seq}:${e.source}`);
      if (e.source === 'a') bus.publish('changed', 'b');
    });
    bus.publish('changed', 'a');
    bus.publish('changed', 'c');
    expect(observed).toEqual(['1:a', '2:b', '3:c']);
    const got = await drain(sub, 3);
    expect(got.map((e) => e.source)).toEqual(['a', 'b', 'c']);
  });

  it('an observer that throws does not stop delivery', async () => {
    const bus = new Bus();
    const sub = bus.subscribe('all');
    bus.observe(() => {
      throw new Error('disk full');
    });
    bus.publish('changed', 'a');
    expect((await sub.next()).value?.source).toBe('a');
  });

  it('closed subscriptions stop receiving', async () => {
    const bus = new Bus();
    const sub = bus.subscribe('x');
    bus.publish('changed', 'a');
    sub.close();
    bus.publish('changed', 'b');
    const got = await drain(sub, 5);
    expect(got.map((e) => e.source)).toEqual(['a']);
  });
});

describe('Bus source index', () => {
  it('a subscription limited to sources sees only those, in global order, next to unlimited ones', async () => {
    const bus = new Bus();
    const all = bus.subscribe('all');
    const some = bus.subscribe('some', () => true, undefined, ['a', 'c']);
    const onlyA = bus.subscribe('onlyA', (code) => code === 'healthy', undefined, ['a']);
    for (const source of ['a', 'b', 'c', 'a', 'b', 'c']) bus.publish(source === 'a' ? 'healthy' : 'changed', source);
    expect((await drain(all, 6)).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect((await drain(some, 4)).map((e) => `${e.seq}:${e.source}`)).toEqual(['1:a', '3:c', '4:a', '6:c']);
    expect((await drain(onlyA, 2)).map((e) => e.seq)).toEqual([1, 4]);
    some.close();
    bus.publish('changed', 'c');
    onlyA.close();
    bus.publish('healthy', 'a');
    expect((await drain(all, 2)).map((e) => e.seq)).toEqual([7, 8]);
    expect(some.queue.length).toBe(0);
    expect(onlyA.queue.length).toBe(0);
  });
});
