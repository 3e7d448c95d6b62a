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

/**
 * An engine with one processor (a publish awaited while holding it would stall every other key)
 * whose handler throws for offset 0 and records the other offsets it handled, dead-lettering to a
 * gated channel: through the dead-letter middleware, and for undecodable records, the engine itself.
 */
async function setup(): Promise<{
  source: ScriptedSource;
  dlq: ReturnType<typeof gatedDeadLetterChannel>;
  handled: number[];
  engine: ConsumeEngine;
}> {
  const source = new ScriptedSource();
  const dlq = gatedDeadLetterChannel();
  const handled: number[] = [];
  const engine = new ConsumeEngine(
    engineParams({
      source,
      processors: 1,
      channels: { publisher: (name) => (name === dlq.name ? dlq : undefined) },
      deadLetterChannelName: dlq.name,
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
  return { source, dlq, handled, engine };
}

describe('ConsumeEngine dead-letter publishes', () => {
  it.each([
    ['a handler failure (dead-letter middleware)', false],
    ['an undecodable record (the engine)', true],
  ])(
    'for %s run without the processor: other keys run meanwhile, the record commits once the publish resolved',
    async (_case, undecodable) => {
      const { source, dlq, handled, engine } = await setup();
      await source.listener.batch(0, [
        record(0, 'a', undecodable),
        record(1, 'b'),
        record(2, 'c'),
        record(3, 'a'),
      ]);

      await waitFor(() => dlq.sent.length === 1 && handled.length === 2, 2000, {
        description: 'the other keys handled while the dead-letter publish is pending',
      });
      expect(handled).toEqual([1, 2]);
      // Not settled while its publish is pending: nothing commits, and its key's next record waits.
      expect(source.committed(0)).toBeUndefined();

      dlq.release();
      await waitFor(() => source.committed(0) === 4n);
      expect(handled).toEqual([1, 2, 3]);
      await engine.stop(1000, false);
    },
  );
});
