import { MessageBuilder } from '../message/message-builder.js';
import { waitFor } from '../testing/wait-for.js';
import type { Delivery } from './consumer-channel.js';
import { PublishSubscribeChannel } from './publish-subscribe-channel.js';

const msg = (payload: unknown) => MessageBuilder.withPayload(payload).build();

describe('PublishSubscribeChannel', () => {
  let channel: PublishSubscribeChannel;
  beforeEach(() => {
    channel = new PublishSubscribeChannel('events');
  });
  afterEach(async () => channel.close());

  it('delivers every message to every subscriber, in order', async () => {
    const a: unknown[] = [];
    const b: unknown[] = [];
    await channel.subscribe(async (d) => void a.push(d.message.payload));
    await channel.subscribe(async (d) => void b.push(d.message.payload));
    await Promise.all([channel.send(msg(1)), channel.send(msg(2)), channel.send(msg(3))]);
    expect(a).toEqual([1, 2, 3]);
    expect(b).toEqual([1, 2, 3]);
  });

  it('send resolves only once every subscriber accepted it', async () => {
    let accept: () => void = () => undefined;
    await channel.subscribe(async () => undefined);
    await channel.subscribe(() => new Promise<void>((resolve) => (accept = resolve)));
    let sent = false;
    const sending = channel.send(msg(1)).then(() => (sent = true));
    await new Promise((r) => setImmediate(r));
    expect(sent).toBe(false);
    accept();
    await sending;
    expect(sent).toBe(true);
  });

  it('hands deliveries to one subscriber one at a time (backpressure)', async () => {
    const got: Delivery[] = [];
    const accepts: (() => void)[] = [];
    await channel.subscribe((d) => {
      got.push(d);
      return new Promise<void>((resolve) => accepts.push(resolve));
    });
    const sends = [channel.send(msg(1)), channel.send(msg(2))];
    await waitFor(() => got.length === 1);
    await new Promise((r) => setImmediate(r));
    expect(got).toHaveLength(1);
    accepts[0]!();
    await waitFor(() => got.length === 2);
    accepts[1]!();
    await Promise.all(sends);
  });

  it('drops messages sent with no subscriber', async () => {
    await channel.send(msg(1));
    const got: unknown[] = [];
    await channel.subscribe(async (d) => void got.push(d.message.payload));
    await channel.send(msg(2));
    expect(got).toEqual([2]);
  });

  it('nack redelivers to the same subscriber after the delay', async () => {
    const attempts: number[] = [];
    await channel.subscribe(async (d) => {
      attempts.push(d.deliveryAttempt);
      if (d.deliveryAttempt < 3) await d.nack({ delayMs: 1 });
      else await d.ack();
    });
    await channel.send(msg(1));
    await waitFor(() => attempts.length === 3);
    expect(attempts).toEqual([1, 2, 3]);
  });

  it('a closed subscription gets nothing more; send rejects when a handler rejects', async () => {
    const got: unknown[] = [];
    const errors: Error[] = [];
    const s = await channel.subscribe(async (d) => void got.push(d.message.payload));
    await channel.subscribe(async () => Promise.reject(new Error('boom')), {
      onError: (e) => errors.push(e),
    });
    await expect(channel.send(msg(1))).rejects.toMatchObject({ code: 'GOMES_PUBLISH_FAILED' });
    expect(got).toEqual([1]);
    expect(errors).toHaveLength(1);
    await Promise.all([s.close(), s.close()]);
    expect(channel.subscriberCount).toBe(1);
  });

  it('close is idempotent and later sends reject with GOMES_CLOSED', async () => {
    await Promise.all([channel.close(), channel.close()]);
    await expect(channel.send(msg(1))).rejects.toMatchObject({ code: 'GOMES_CLOSED' });
    await expect(channel.subscribe(async () => undefined)).rejects.toMatchObject({ code: 'GOMES_CLOSED' });
  });
});
