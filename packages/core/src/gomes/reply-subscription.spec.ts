// The reply consumer acks every reply: one whose handling throws is logged and dropped, not read
// again and again until its request times out.
import { RequestReplyCoordinator } from '../bus/request-reply-coordinator.js';
import type { Subscription } from '../channel/consumer-channel.js';
import { MessageBuilder } from '../message/message-builder.js';
import type { Message } from '../message/message.js';
import { GomesTelemetry } from '../observability/gomes-telemetry.js';
import { holdsFor, waitFor } from '../testing/wait-for.js';
import { InMemoryBroker } from '../transport/in-memory/in-memory-broker.js';
import { inMemoryConnection } from '../transport/in-memory/in-memory-connection.js';
import { inMemoryConsumer } from '../transport/in-memory/in-memory-consumer-channel-builder.js';
import { inMemoryPublisher } from '../transport/in-memory/in-memory-publisher-channel-builder.js';
import { recordingLogger } from '../../test/support/recording-logger.js';
import { subscribeReplies } from './reply-subscription.js';

/** A coordinator whose first `handleReply` throws (as a broken tracer's reply hook would). */
class FailingOnce extends RequestReplyCoordinator {
  calls: string[] = [];
  override handleReply(message: Message): ReturnType<RequestReplyCoordinator['handleReply']> {
    this.calls.push(message.messageId);
    if (this.calls.length === 1) throw new Error('reply hook failed');
    return super.handleReply(message);
  }
}

describe('subscribeReplies', () => {
  let subscription: Subscription | undefined;
  afterEach(async () => subscription?.close());

  it('acks a reply whose handling throws (logged as an error) instead of reading it again; the next reply is handled', async () => {
    const broker = new InMemoryBroker();
    const connection = inMemoryConnection('mem', { broker });
    await connection.connect();
    const logger = recordingLogger();
    const { lines } = logger;
    const coordinator = new FailingOnce(logger);
    subscription = await subscribeReplies({
      builder: inMemoryConsumer('mem', 'replies', 'replies-consumer'),
      context: { connection, logger },
      coordinator,
      telemetry: new GomesTelemetry({ tracing: false, tracerProvider: undefined, meterProvider: undefined }),
      system: 'in-memory',
    });
    const publisher = await inMemoryPublisher('mem', 'replies').build({ connection, logger });
    const first = MessageBuilder.withPayload({ n: 1 }).build();
    const second = MessageBuilder.withPayload({ n: 2 }).build();
    await publisher.send(first);
    await publisher.send(second);
    await waitFor(() => coordinator.calls.includes(second.messageId), 5000, {
      description: 'the second reply reaches the coordinator',
    });
    await holdsFor(() => coordinator.calls.length === 2, 100, {
      description: 'the failed reply is not read again',
    });
    expect(coordinator.calls).toEqual([first.messageId, second.messageId]);
    expect(lines.filter((l) => l.level === 'error').map((l) => [l.message, l.fields['messageId']])).toEqual([
      ['reply could not be handled; dropped (its request times out)', first.messageId],
    ]);
  });
});
