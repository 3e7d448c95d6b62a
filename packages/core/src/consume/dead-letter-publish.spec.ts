import type { PublisherChannel } from '../channel/publisher-channel.js';
import type { Message } from '../message/message.js';
import { composeMiddleware } from '../pipeline/message-handler.js';
import { deadLetter } from '../pipeline/middleware/dead-letter.js';
import { waitFor } from '../testing/wait-for.js';
import { engineParams, ScriptedSource, sourceRecord as record } from '../../test/support/scripted-source.js';
import { ConsumeEngine } from './consume-engine.js';

/** A dead-letter channel whose sends stay pending until the test releases them. */
function gatedDeadLetterChannel(): PublisherChannel & { sent: Message[]; release: () => void } {
  const sent: Message[] = [];
  const waiting: (() => void)[] = [];
  return {
    name: 'orders.dlq',
    sent,
    send: async (message) => {
      sent.push(message);
      await new Promise<void>((resolve) => waiting.push(resolve));
    },
    close: async () => undefined,
    release: () => waiting.splice(0).forEach((resolve) => resolve()),
  };
}

describe('ConsumeEngine with the dead-letter middleware', () => {
  it('runs other keys while a dead-letter publish is pending, and commits the record only once it resolved', async () => {
    const source = new ScriptedSource();
    const dlq = gatedDeadLetterChannel();
    const handled: number[] = [];
    const engine = new ConsumeEngine(
      engineParams({
        source,
        // One processor: a publish awaited while holding it would stall every other key.
        processors: 1,
        channels: { publisher: (name) => (name === dlq.name ? dlq : undefined) },
        pipeline: composeMiddleware([deadLetter({ channelName: dlq.name })], async (message) => {
          const { offset } = message.payload as { offset: number };
          if (offset === 0) throw new Error('poison');
          handled.push(offset);
          return Promise.resolve(undefined);
        }),
      }),
    );
    await engine.start();
    source.listener.assigned([0]);
    await source.listener.batch(0, [record(0, 'a'), record(1, 'b'), record(2, 'c'), record(3, 'a')]);

    await waitFor(() => dlq.sent.length === 1 && handled.length === 2, 2000, {
      description: 'the other keys handled while the dead-letter publish is pending',
    });
    expect(handled).toEqual([1, 2]);
    // The poison record is not settled while its publish is pending: nothing is committed, and its
    // key's next record waits behind it.
    expect(source.committed(0)).toBeUndefined();

    dlq.release();
    await waitFor(() => source.committed(0) === 4n);
    expect(handled).toEqual([1, 2, 3]);
    await engine.stop(1000, false);
  });
});
