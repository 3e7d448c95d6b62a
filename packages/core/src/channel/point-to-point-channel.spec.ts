import { MessageBuilder } from '../message/message-builder.js';
import { holdsFor, waitFor } from '../testing/wait-for.js';
import type { Delivery } from './consumer-channel.js';
import { PointToPointChannel } from './point-to-point-channel.js';

const msg = (payload: unknown) => MessageBuilder.withPayload(payload).build();

describe('PointToPointChannel', () => {
  let channel: PointToPointChannel;
  beforeEach(() => {
    channel = new PointToPointChannel('commands');
  });
  afterEach(async () => channel.close());

  it('delivers each message to exactly one subscriber, round-robin', async () => {
    const a: unknown[] = [];
    const b: unknown[] = [];
    await channel.subscribe(async (d) => {
      a.push(d.message.payload);
      await d.ack();
    });
    await channel.subscribe(async (d) => {
      b.push(d.message.payload);
      await d.ack();
    });
    for (let i = 0; i < 6; i++) await channel.send(msg(i));
    expect(a).toEqual([0, 2, 4]);
    expect(b).toEqual([1, 3, 5]);
  });

  it('send waits for a subscriber and resolves once it accepted the message', async () => {
    let sent = false;
    const sending = channel.send(msg('x')).then(() => (sent = true));
    await holdsFor(() => !sent, 20);
    expect(channel.queued).toBe(1);
    let accept: () => void = () => undefined;
    const got: Delivery[] = [];
    await channel.subscribe((d) => {
      got.push(d);
      return new Promise<void>((resolve) => (accept = resolve));
    });
    await waitFor(() => got.length === 1);
    await holdsFor(() => !sent, 20);
    accept();
    await sending;
    expect(got[0]!.deliveryAttempt).toBe(1);
    expect(got[0]!.position.channel).toBe('commands');
  });

  it('nack gives the message to the next subscriber after the delay, with deliveryAttempt + 1', async () => {
    const seen: [string, number][] = [];
    await channel.subscribe(async (d) => {
      seen.push(['a', d.deliveryAttempt]);
      await d.nack({ delayMs: 5 });
    });
    await channel.subscribe(async (d) => {
      seen.push(['b', d.deliveryAttempt]);
      await d.ack();
    });
    await channel.send(msg(1));
    await waitFor(() => seen.length === 2);
    expect(seen).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
  });

  it('closing a subscription gives its unsettled messages back', async () => {
    const first: Delivery[] = [];
    const s1 = await channel.subscribe(async (d) => {
      first.push(d);
    });
    await channel.send(msg('keep'));
    await s1.close();
    await s1.close();
    await first[0]!.ack(); // too late: ignored
    const second: Delivery[] = [];
    await channel.subscribe(async (d) => {
      second.push(d);
      await d.ack();
    });
    await waitFor(() => second.length === 1);
    expect(second[0]!.message.payload).toBe('keep');
    expect(second[0]!.deliveryAttempt).toBe(2);
  });

  it('stop removes the subscriber from the rotation', async () => {
    const a: unknown[] = [];
    const b: unknown[] = [];
    const sa = await channel.subscribe(async (d) => void a.push(d.message.payload));
    await channel.subscribe(async (d) => void b.push(d.message.payload));
    await sa.stop();
    await channel.send(msg(1));
    await channel.send(msg(2));
    expect(a).toEqual([]);
    expect(b).toEqual([1, 2]);
    expect(channel.subscriberCount).toBe(1);
  });

  it('reports a rejecting handler and rejects the send with GOMES_PUBLISH_FAILED', async () => {
    const errors: Error[] = [];
    await channel.subscribe(async () => Promise.reject(new Error('full')), {
      onError: (e) => errors.push(e),
    });
    await expect(channel.send(msg(1))).rejects.toMatchObject({ code: 'GOMES_PUBLISH_FAILED' });
    expect(errors.map((e) => e.message)).toEqual(['full']);
  });

  it('aborts a queued send through its signal', async () => {
    const controller = new AbortController();
    const sending = channel.send(msg(1), { signal: controller.signal });
    controller.abort();
    await expect(sending).rejects.toMatchObject({ code: 'GOMES_ABORTED' });
    expect(channel.queued).toBe(0);
  });

  it('close rejects queued and later sends with GOMES_CLOSED and is idempotent', async () => {
    const queued = channel.send(msg(1));
    await Promise.all([channel.close(), channel.close()]);
    await channel.close();
    await expect(queued).rejects.toMatchObject({ code: 'GOMES_CLOSED' });
    await expect(channel.send(msg(2))).rejects.toMatchObject({ code: 'GOMES_CLOSED' });
    await expect(channel.subscribe(async () => undefined)).rejects.toMatchObject({ code: 'GOMES_CLOSED' });
  });
});
