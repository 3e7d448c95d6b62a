import type { Delivery, NackOptions } from '../../channel/consumer-channel.js';
import { ConfigurationError } from '../../errors/configuration-error.js';
import { GomesError } from '../../errors/gomes-error.js';
import { noopLogger } from '../../logging/logger.js';
import { MessageBuilder } from '../../message/message-builder.js';
import type { Message } from '../../message/message.js';
import type { ProcessingContext } from '../processing-context.js';
import { acknowledge } from './acknowledge.js';

function fakeDelivery(message: Message): Delivery & { acks: number; nacks: NackOptions[] } {
  const d = {
    message,
    key: 'k',
    position: { channel: 'c' },
    deliveryAttempt: 1,
    acks: 0,
    nacks: [] as NackOptions[],
    ack: async () => void d.acks++,
    nack: async (o: NackOptions = {}) => void d.nacks.push(o),
  };
  return d;
}

function ctxFor(delivery: Delivery | undefined, signal = new AbortController().signal): ProcessingContext {
  return {
    signal,
    logger: noopLogger,
    endpointName: 'test',
    channels: { publisher: () => undefined },
    state: { attempts: 0 },
    ...(delivery ? { delivery } : {}),
  };
}

describe('acknowledge', () => {
  const message = MessageBuilder.withPayload('hi').build();

  it('acks after the handler succeeded and returns its result', async () => {
    const d = fakeDelivery(message);
    const acked: string[] = [];
    const handler = acknowledge({ onAcked: (m) => acked.push(m.messageId) })(async (m) => m);
    await expect(handler(message, ctxFor(d))).resolves.toBe(message);
    expect(d.acks).toBe(1);
    expect(d.nacks).toEqual([]);
    expect(acked).toEqual([message.messageId]);
  });

  it('nacks (never acks) on failure, with the delay, and re-throws', async () => {
    const d = fakeDelivery(message);
    const nacked: string[] = [];
    const error = new GomesError('HANDLER_FAILED', 'boom');
    const handler = acknowledge({ nackDelayMs: 250, onNacked: (_m, e) => nacked.push(e.message) })(
      async () => {
        throw error;
      },
    );
    await expect(handler(message, ctxFor(d))).rejects.toBe(error);
    expect(d.acks).toBe(0);
    expect(d.nacks).toEqual([{ delayMs: 250 }]);
    expect(nacked).toEqual(['boom']);
  });

  it('nacks with delay 0 when processing was aborted, and accepts a delay function', async () => {
    const d = fakeDelivery(message);
    const ac = new AbortController();
    ac.abort();
    const handler = acknowledge({ nackDelayMs: () => 99 })(async () => {
      throw new Error('aborted');
    });
    await expect(handler(message, ctxFor(d, ac.signal))).rejects.toThrow('aborted');
    expect(d.nacks).toEqual([{ delayMs: 0 }]);
    const d2 = fakeDelivery(message);
    await expect(handler(message, ctxFor(d2))).rejects.toThrow('aborted');
    expect(d2.nacks).toEqual([{ delayMs: 99 }]);
  });

  it('still re-throws the handler error when nack itself fails', async () => {
    const d = fakeDelivery(message);
    d.nack = async () => {
      throw new Error('transport down');
    };
    const handler = acknowledge()(async () => {
      throw new Error('boom');
    });
    await expect(handler(message, ctxFor(d))).rejects.toThrow('boom');
  });

  it('passes through without a delivery', async () => {
    const handler = acknowledge()(async (m) => m);
    await expect(handler(message, ctxFor(undefined))).resolves.toBe(message);
  });

  it('rejects an invalid nack delay', () => {
    expect(() => acknowledge({ nackDelayMs: -1 })).toThrow(ConfigurationError);
  });
});
