// gomes.replay on the in-memory transport: checkpoints — resuming after an abort or a crash, a
// checkpoint of another window.
import { isGomesError } from '../errors/gomes-error.js';
import { app, ids, threePhases, TOPIC, type Seen } from '../../test/support/replay-fixtures.js';
import { InMemoryReplayCheckpointStore } from './in-memory-replay-checkpoint-store.js';
import type { ReplayCheckpoint, ReplayCheckpointStore } from './replay-checkpoint-store.js';

describe('gomes.replay: checkpoints', () => {
  it('resumes after an abort: nothing handled twice, nothing missed', async () => {
    const controller = new AbortController();
    const seen: Seen = [];
    const { gomes } = await app((o) => {
      seen.push({ orderId: o.orderId, customer: o.customer, seq: o.seq });
      if (seen.length === 23) controller.abort();
    });
    const { from, to, expected } = await threePhases(gomes, 60);
    const store = new InMemoryReplayCheckpointStore();
    const checkpoint = { store, id: 'rebuild', every: 5 };

    const first = await gomes.replay({ channel: TOPIC, from, to, checkpoint, signal: controller.signal });

    expect(first.status).toBe('aborted');
    expect(first.handled).toBe(23);
    expect(first.checkpointsSaved).toBe(5); // every 5 records (4), and when the run ended
    const firstRun = ids(seen);
    seen.length = 0;

    const second = await gomes.replay({ channel: TOPIC, from, to, checkpoint });

    expect(second.status).toBe('completed');
    expect(second.handled).toBe(60 - 23);
    expect(second.skippedCheckpointed).toBe(23);
    const all = [...firstRun, ...ids(seen)];
    expect(new Set(all).size).toBe(all.length);
    expect(all.sort()).toEqual(ids(expected).sort());

    // Completed: a third run with the same id handles nothing.
    seen.length = 0;
    const third = await gomes.replay({ channel: TOPIC, from, to, checkpoint });
    expect(third).toMatchObject({ status: 'completed', handled: 0, skippedCheckpointed: 60 });
    expect(seen).toEqual([]);
  });

  it('after a crash, handles again only what came after the last saved checkpoint', async () => {
    const inner = new InMemoryReplayCheckpointStore();
    let saves = 0;
    // Stands for a process that dies after its third checkpoint: later saves are lost.
    const crashing: ReplayCheckpointStore = {
      description: 'crashing',
      load: async (id) => inner.load(id),
      save: async (id, checkpoint: ReplayCheckpoint) => {
        if (++saves > 3) throw new Error('process gone');
        await inner.save(id, checkpoint);
      },
      delete: async (id) => inner.delete(id),
    };
    const seen: Seen = [];
    const { gomes } = await app((o) => {
      seen.push({ orderId: o.orderId, customer: o.customer, seq: o.seq });
    });
    const { from, to, expected } = await threePhases(gomes, 40);

    const first = await gomes.replay({
      channel: TOPIC,
      from,
      to,
      checkpoint: { store: crashing, id: 'c', every: 4 },
    });

    expect(first.status).toBe('failed');
    expect(isGomesError(first.error) && first.error.code).toBe('GOMES_REPLAY_CHECKPOINT_FAILED');
    expect(first.handled).toBe(16); // stopped by the 4th save, after 16 records
    const checkpointed = (await inner.load('c'))!;
    const firstRun = [...seen];
    seen.length = 0;

    const second = await gomes.replay({
      channel: TOPIC,
      from,
      to,
      checkpoint: { store: inner, id: 'c', every: 4 },
    });

    expect(second.status).toBe('completed');
    expect(second.skippedCheckpointed).toBe(12);
    // None handled twice that the last saved checkpoint covered; none missed.
    const again = ids(seen).filter((id) => ids(firstRun).includes(id));
    expect(again).toHaveLength(4);
    expect(new Set([...ids(firstRun), ...ids(seen)])).toEqual(new Set(ids(expected)));
    expect(Object.keys(checkpointed.offsets).length).toBeGreaterThan(0);
  });

  it('reports a completed window whose final checkpoint could not be saved as failed, with the store error', async () => {
    const failing: ReplayCheckpointStore = {
      description: 'unreachable',
      load: async () => undefined,
      save: async () => Promise.reject(new Error('connection refused')),
      delete: async () => undefined,
    };
    const { gomes } = await app();
    const { from, to } = await threePhases(gomes, 5);
    const report = await gomes.replay({ channel: TOPIC, from, to, checkpoint: { store: failing, id: 'x' } });
    expect(report).toMatchObject({ status: 'failed', handled: 5, checkpointsSaved: 0 });
    expect(isGomesError(report.error) && report.error.code).toBe('GOMES_REPLAY_CHECKPOINT_FAILED');
    expect(report.error?.message).toBe(
      'Replay checkpoint "x" could not be saved to unreachable: connection refused',
    );
  });

  it('throws GOMES_REPLAY_CHECKPOINT_FAILED, handling nothing, when the checkpoint cannot be loaded', async () => {
    const seen: Seen = [];
    const { gomes } = await app((o) => {
      seen.push({ orderId: o.orderId, customer: o.customer, seq: o.seq });
    });
    const { from, to } = await threePhases(gomes, 3);
    const unreadable: ReplayCheckpointStore = {
      description: 'unreadable',
      load: async () => Promise.reject(new Error('timeout')),
      save: async () => undefined,
      delete: async () => undefined,
    };
    await expect(
      gomes.replay({ channel: TOPIC, from, to, checkpoint: { store: unreadable, id: 'y' } }),
    ).rejects.toMatchObject({
      code: 'GOMES_REPLAY_CHECKPOINT_FAILED',
      message: 'Replay checkpoint "y" could not be loaded from unreadable: timeout',
    });
    expect(seen).toEqual([]);
  });

  it('refuses a checkpoint of another window with a ConfigurationError', async () => {
    const { gomes } = await app();
    const { from, to } = await threePhases(gomes, 3);
    const store = new InMemoryReplayCheckpointStore();
    await gomes.replay({ channel: TOPIC, from, to, checkpoint: { store, id: 'w' } });
    const later = new Date(to.getTime() + 1);
    await expect(
      gomes.replay({ channel: TOPIC, from, to: later, checkpoint: { store, id: 'w' } }),
    ).rejects.toThrow(/checkpoint "w" belongs to a replay of "replay.orders" over/);
    await store.delete('w');
    // Deleted: the window is replayed again from its start.
    await expect(
      gomes.replay({ channel: TOPIC, from, to, checkpoint: { store, id: 'w' } }),
    ).resolves.toMatchObject({
      status: 'completed',
      handled: 3,
      skippedCheckpointed: 0,
    });
  });
});
