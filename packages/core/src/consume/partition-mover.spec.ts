import { ConfigurationError } from '../errors/configuration-error.js';
import { holdsFor, waitFor } from '../testing/wait-for.js';
import { engineParams, ScriptedSource, sourceRecord as record } from '../../test/support/scripted-source.js';
import { ConsumeEngine } from './consume-engine.js';
import type { StartPosition } from './start-position.js';

function engine(source: ScriptedSource, startPosition: StartPosition | undefined) {
  const handled: number[] = [];
  const errors: Error[] = [];
  const e = new ConsumeEngine(
    engineParams({
      source,
      pipeline: async (message) => {
        handled.push((message.payload as { offset: number }).offset);
        return Promise.resolve(undefined);
      },
      processors: 2,
      startPosition,
      onSourceError: (error) => errors.push(error),
    }),
  );
  return { engine: e, handled, errors };
}

describe('PartitionMover (through the consume engine)', () => {
  it('holds a partition until its start position is resolved; a failed resolution is reported and retried', async () => {
    const source = new ScriptedSource({ resolves: true });
    source.failResolving = 2;
    const { engine: e, handled, errors } = engine(source, { kind: 'latest' });
    await e.start();
    source.listener.assigned([0]);
    expect(source.paused.has(0)).toBe(true);
    // Fetched before the move (the old position): dropped untracked, never handled nor committed.
    await source.listener.batch(0, [record(5), record(6)]);
    await waitFor(() => source.seeks.length === 1, 2000);
    expect(errors.map((x) => x.message)).toEqual(['broker unavailable', 'broker unavailable']);
    expect(source.seeks).toEqual([[0, 100n]]);
    expect(source.paused.has(0)).toBe(false);
    expect(handled).toEqual([]);
    // The start position is committed at once, before any record of it is handled.
    expect(source.commits).toEqual([new Map([[0, 100n]])]);
    await source.listener.batch(0, [record(100), record(101)]);
    await waitFor(() => source.commits.at(-1)?.get(0) === 102n);
    expect(handled).toEqual([100, 101]);
    await e.stop(100, false);
  });

  it('a seek commits its target when it resolves: a restart before any record of it is handled resumes there', async () => {
    const source = new ScriptedSource();
    const { engine: e, handled } = engine(source, undefined);
    await e.start();
    source.listener.assigned([0]);
    await source.listener.batch(0, [record(0), record(1), record(2), record(3), record(4)]);
    await waitFor(() => source.committed(0) === 5n);
    expect(await e.seek({ kind: 'offsets', offsets: { 0: '2' } })).toEqual([{ partition: 0, offset: '2' }]);
    expect(source.committed(0)).toBe(2n);
    expect(handled).toEqual([0, 1, 2, 3, 4]);
    await e.stop(100, false);
    // Nothing of the new position was handled: stopping commits nothing past it.
    expect(source.committed(0)).toBe(2n);
  });

  it('applies the start position once per partition: a partition assigned again keeps its committed position', async () => {
    const source = new ScriptedSource({ resolves: true });
    const { engine: e } = engine(source, { kind: 'earliest' });
    await e.start();
    source.listener.assigned([0, 1]);
    await waitFor(() => source.seeks.length === 2);
    await source.listener.revoked([0]);
    source.listener.assigned([0]);
    await holdsFor(() => source.seeks.length === 2 && !source.paused.has(0), 50);
    await e.stop(100, false);
  });

  it('explicit offsets only move the listed partitions and need no resolution by the source', async () => {
    const source = new ScriptedSource();
    const { engine: e } = engine(source, { kind: 'offsets', offsets: { 1: '7' } });
    await e.start();
    source.listener.assigned([0, 1]);
    await waitFor(() => source.seeks.length === 1);
    expect(source.seeks).toEqual([[1, 7n]]);
    expect(source.paused.size).toBe(0);
    await e.stop(100, false);
  });

  it('a source that cannot resolve positions: start() fails with a ConfigurationError, seek with GOMES_NOT_SUPPORTED', async () => {
    const { engine: withStart } = engine(new ScriptedSource(), {
      kind: 'timestamp',
      timestamp: new Date(),
    });
    await expect(withStart.start()).rejects.toBeInstanceOf(ConfigurationError);
    const source = new ScriptedSource();
    const { engine: e } = engine(source, undefined);
    await e.start();
    source.listener.assigned([0]);
    await expect(e.seek({ kind: 'latest' })).rejects.toMatchObject({ code: 'GOMES_NOT_SUPPORTED' });
    expect(source.seeks).toEqual([]);
    expect(source.paused.size).toBe(0);
    await e.stop(100, false);
  });
});
