import type { PublisherChannel } from '../../channel/publisher-channel.js';
import { GomesError, isGomesError } from '../../errors/gomes-error.js';
import { noopLogger } from '../../logging/logger.js';
import { MessageBuilder } from '../../message/message-builder.js';
import type { Message } from '../../message/message.js';
import type { ProcessingContext } from '../processing-context.js';
import { ReplyHeaders, sendReply } from './send-reply.js';

function publisher(name: string, fail?: Error): PublisherChannel & { sent: Message[] } {
  const sent: Message[] = [];
  return {
    name,
    sent,
    send: async (m) => (fail ? Promise.reject(fail) : void sent.push(m)),
    close: async () => undefined,
  };
}
const ctxWith = (channels: PublisherChannel[], signal = new AbortController().signal): ProcessingContext => ({
  signal,
  logger: noopLogger,
  endpointName: 't',
  channels: { publisher: (n) => channels.find((c) => c.name === n) },
  state: { attempts: 0 },
});

describe('sendReply', () => {
  const request = MessageBuilder.withPayload({ q: 1 })
    .messageType('Query')
    .route('getOrder')
    .correlationId('c-1')
    .replyTo('replies')
    .build();
  const result = MessageBuilder.withPayload({ order: 42 }).route('ignored').build();

  it('publishes the result payload to replyTo with correlation and causation', async () => {
    const replies = publisher('replies');
    await expect(sendReply()(async () => result)(request, ctxWith([replies]))).resolves.toBe(result);
    const reply = replies.sent[0] as Message;
    expect(reply.payload).toEqual({ order: 42 });
    expect(reply.correlationId).toBe('c-1');
    expect(reply.causationId).toBe(request.messageId);
    expect(reply.messageType).toBe('Document');
    expect(reply.channelName).toBe('replies');
    expect(reply.route).toBeUndefined();
    expect(reply.header(ReplyHeaders.ERROR)).toBeUndefined();
  });

  it("copies the request's instance header to the reply (result and error replies), so it reaches the instance that asked", async () => {
    const replies = publisher('replies');
    const addressed = MessageBuilder.from(request).header(ReplyHeaders.INSTANCE, 'checkout-2').build();
    await sendReply()(async () => result)(addressed, ctxWith([replies]));
    await expect(
      sendReply()(async () => Promise.reject(new Error('boom')))(addressed, ctxWith([replies])),
    ).rejects.toThrow('boom');
    expect(replies.sent.map((r) => r.header(ReplyHeaders.INSTANCE))).toEqual(['checkout-2', 'checkout-2']);
    expect(replies.sent[1]?.header(ReplyHeaders.ERROR)).toBe('true');
    await sendReply()(async () => result)(request, ctxWith([replies]));
    expect(replies.sent[2]?.header(ReplyHeaders.INSTANCE)).toBeUndefined();
  });

  it('uses the request messageId as correlationId when the request has none', async () => {
    const replies = publisher('replies');
    const bare = MessageBuilder.withPayload(1).replyTo('replies').build();
    await sendReply()(async () => result)(bare, ctxWith([replies]));
    expect(replies.sent[0]?.correlationId).toBe(bare.messageId);
  });

  it('just returns without replyTo or without result (no failure of a processed message)', async () => {
    const replies = publisher('replies');
    const noReplyTo = MessageBuilder.withPayload(1).build();
    await expect(sendReply()(async () => result)(noReplyTo, ctxWith([replies]))).resolves.toBe(result);
    await expect(sendReply()(async () => undefined)(request, ctxWith([replies]))).resolves.toBeUndefined();
    expect(replies.sent).toEqual([]);
  });

  it('reports (does not fail) an unknown replyTo channel', async () => {
    const dropped: string[] = [];
    await expect(
      sendReply({ onReplyDropped: (_m, to) => dropped.push(to) })(async () => result)(request, ctxWith([])),
    ).resolves.toBe(result);
    expect(dropped).toEqual(['replies']);
  });

  it('fails with PUBLISH_FAILED when the reply send fails', async () => {
    const error: unknown = await sendReply()(async () => result)(
      request,
      ctxWith([publisher('replies', new Error('down'))]),
    ).catch((e: unknown) => e);
    expect(isGomesError(error) && error.code).toBe('GOMES_PUBLISH_FAILED');
  });

  it('sends an error reply and re-throws when the handler fails', async () => {
    const replies = publisher('replies');
    const failure = new GomesError('HANDLER_NOT_FOUND', 'no handler');
    await expect(
      sendReply()(async () => {
        throw failure;
      })(request, ctxWith([replies])),
    ).rejects.toBe(failure);
    const reply = replies.sent[0] as Message;
    expect(reply.header(ReplyHeaders.ERROR)).toBe('true');
    expect(reply.payload).toEqual({
      error: { name: 'GomesError', code: 'GOMES_HANDLER_NOT_FOUND', message: 'no handler' },
    });
    expect(reply.correlationId).toBe('c-1');
  });

  it('sends no error reply when processing was aborted', async () => {
    const replies = publisher('replies');
    const ac = new AbortController();
    ac.abort();
    await expect(
      sendReply()(async () => {
        throw new Error('aborted');
      })(request, ctxWith([replies], ac.signal)),
    ).rejects.toThrow('aborted');
    expect(replies.sent).toEqual([]);
  });
});
