/**
 * Example 03 — an event-driven consumer whose handler fails.
 *
 * `payment-processor` consumes `payments` with 2 processors, retry with exponential backoff and
 * jitter (4 attempts: ~50, ~100, ~200 ms between them) and the dead-letter channel `payments.DLQ`.
 * A payment whose fraud check keeps timing out is retried, then dead-lettered; a payment with an
 * unknown currency throws NonRetriableError and goes to the DLQ at once; the other payments keep
 * flowing meanwhile (other keys are not blocked). A second consumer, `dlq-reader`, reads the DLQ
 * and prints each envelope. Then the fraud check service is back: the retriable dead letter is
 * redriven (`gomes.deadLetters(...).redrive`) with its original messageId and booked; the other one
 * stays in the DLQ.
 *
 * Run: pnpm build && node examples/03-event-driven-consumer/dist/main.js
 */
import 'reflect-metadata';
import { IsIn, IsPositive, IsString } from 'class-validator';
import {
  Event,
  EventHandler,
  NonRetriableError,
  RedriveHeaders,
  createGomes,
  inMemoryConnection,
  inMemoryConsumer,
  inMemoryPublisher,
  readDeadLetterEnvelope,
  type DeadLetterEnvelope,
  type HandlerContext,
  type HandlerMiddleware,
  type LogFields,
  type Logger,
} from '@gomes/core';

@Event('paymentReceived')
class PaymentReceived {
  @IsString() paymentId: string;
  @IsPositive() amount: number;
  @IsString() @IsIn(['EUR', 'USD', 'XXX']) currency: string;
  constructor(paymentId: string, amount: number, currency: string) {
    this.paymentId = paymentId;
    this.amount = amount;
    this.currency = currency;
  }
}

@EventHandler(PaymentReceived)
class PaymentProcessor {
  readonly booked: string[] = [];
  readonly attempts = new Map<string, number>();
  fraudCheckOnline = false;
  readonly #startedAt = Date.now();

  async handle(event: PaymentReceived, context: HandlerContext): Promise<void> {
    const attempt = (this.attempts.get(event.paymentId) ?? 0) + 1;
    this.attempts.set(event.paymentId, attempt);
    const at = `t+${String(Date.now() - this.#startedAt).padStart(3)} ms`;
    if (event.currency === 'XXX') {
      console.log(`  ${at} ${event.paymentId} attempt ${attempt}: unknown currency -> NonRetriableError`);
      throw new NonRetriableError(`currency ${event.currency} is not supported`);
    }
    if (event.amount > 1000 && !this.fraudCheckOnline) {
      console.log(`  ${at} ${event.paymentId} attempt ${attempt}: fraud check timed out`);
      throw new Error('fraud check service timed out');
    }
    // A handler should pass its signal to its I/O: it aborts on processing timeout and on shutdown.
    await new Promise((resolve) => setTimeout(resolve, 5));
    if (context.signal.aborted) throw new Error('aborted');
    this.booked.push(event.paymentId);
    const redrive = context.headers[RedriveHeaders.REDRIVE_COUNT];
    console.log(
      `  ${at} ${event.paymentId} attempt ${attempt}: booked ${event.amount} ${event.currency}` +
        (redrive ? ` (redrive ${redrive}, messageId ${context.messageId})` : ''),
    );
  }
}

/** Prints retry decisions (with their backoff delay) and dead-letter moves; drops the rest. */
function retryLogger(bindings: LogFields = {}): Logger {
  const warn = (message: string, fields: LogFields = {}): void => {
    const f = { ...bindings, ...fields };
    if (message.startsWith('Message processing failed; retrying')) {
      console.log(
        `         gomes: attempt ${String(f['attempt'])}/${String(f['maxAttempts'])} failed, next in ${String(f['delayMs'])} ms`,
      );
    } else if (message === 'Message dead-lettered') {
      console.log(
        `         gomes: dead-lettered to ${String(f['deadLetterChannel'])} after ${String(f['attempts'])} attempt(s)`,
      );
    }
  };
  return {
    debug: () => undefined,
    info: () => undefined,
    warn,
    error: (message) => console.log(`         gomes error: ${message}`),
    child: (more) => retryLogger({ ...bindings, ...more }),
  };
}

async function until(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function printEnvelope(envelope: DeadLetterEnvelope, payload: unknown): void {
  console.log(`dead letter ${JSON.stringify(payload)}`);
  console.log(
    `  errorName=${envelope.errorName} errorCode=${String(envelope.errorCode)} retriable=${String(envelope.retriable)}`,
  );
  console.log(`  errorMessage=${envelope.errorMessage}`);
  console.log(
    `  attempts=${envelope.attempts} deliveryAttempt=${String(envelope.deliveryAttempt)} consumer=${String(envelope.consumer)}`,
  );
  console.log(
    `  origin=${String(envelope.originChannel)}/${String(envelope.originPartition)}@${String(envelope.originOffset)} ` +
      `route=${String(envelope.originalHeaders['route'])} originalMessageId=${String(envelope.originalHeaders['messageId'])}`,
  );
  const spent = (envelope.lastFailureAt?.getTime() ?? 0) - (envelope.firstFailureAt?.getTime() ?? 0);
  console.log(
    `  firstFailureAt=${String(envelope.firstFailureAt?.toISOString())} (+${spent} ms to the last failure)`,
  );
}

export async function main(): Promise<void> {
  const processor = new PaymentProcessor();
  const deadLetters: { envelope: DeadLetterEnvelope; payload: unknown }[] = [];
  const readDeadLetters: HandlerMiddleware = () => async (message) => {
    const envelope = readDeadLetterEnvelope(message);
    if (envelope) deadLetters.push({ envelope, payload: message.payload });
    return Promise.resolve(undefined);
  };

  const app = createGomes({ name: 'payments', logger: retryLogger() });
  app
    .addChannelConnection(inMemoryConnection('memory'))
    .addPublisherChannel(inMemoryPublisher('memory', 'payments').withPartitions(2))
    .addPublisherChannel(inMemoryPublisher('memory', 'payments.DLQ'))
    .addConsumerChannel(
      inMemoryConsumer('memory', 'payments', 'payment-processor')
        .withRetry({ maxAttempts: 4, initialDelayMs: 50, multiplier: 2, jitter: 0.2, maxDelayMs: 1000 })
        .withDeadLetterChannelName('payments.DLQ'),
    )
    .addConsumerChannel(
      inMemoryConsumer('memory', 'payments.DLQ', 'dlq-reader').withMiddleware(readDeadLetters),
    )
    .addActionHandler(processor);
  await app.start();

  const consumer = app
    .eventDrivenConsumer('payment-processor')
    .withAmountOfProcessors(2)
    .withMessageProcessingTimeout(1000)
    .withStopOnError(false);
  const dlqReader = app.eventDrivenConsumer('dlq-reader');
  await consumer.run();
  await dlqReader.run();
  console.log(`payment-processor ${consumer.state}: ${JSON.stringify(consumer.options)}`);

  console.log('\n== publishing 4 payments (partition key = paymentId)');
  const bus = app.eventBusByChannel('payments');
  const payments = [
    new PaymentReceived('pay-1', 5000, 'EUR'),
    new PaymentReceived('pay-2', 20, 'EUR'),
    new PaymentReceived('pay-3', 30, 'XXX'),
    new PaymentReceived('pay-4', 40, 'USD'),
  ];
  const messageIds = new Map<string, string>();
  for (const p of payments) messageIds.set(p.paymentId, await bus.publish(p, { partitionKey: p.paymentId }));

  await until(
    'two dead letters and two bookings',
    () => deadLetters.length === 2 && processor.booked.length === 2,
  );

  console.log('\n== dlq-reader: envelopes read from payments.DLQ');
  const byPayment = (id: string) => deadLetters.find((d) => (d.payload as PaymentReceived).paymentId === id)!;
  printEnvelope(byPayment('pay-1').envelope, byPayment('pay-1').payload);
  printEnvelope(byPayment('pay-3').envelope, byPayment('pay-3').payload);

  console.log('\n== stats');
  console.log(`payment-processor ${JSON.stringify(consumer.stats)}`);
  console.log(`dlq-reader        ${JSON.stringify(dlqReader.stats)}`);
  console.log(
    `booked: ${processor.booked.join(', ')}; handler attempts: ${[...processor.attempts].map(([k, v]) => `${k}=${v}`).join(', ')}`,
  );

  console.log('\n== the fraud check service is back: redrive the retriable dead letters');
  processor.fraudCheckOnline = true;
  const dlq = app.deadLetters('payments.DLQ');
  const paymentOf = (payload: unknown): string => (payload as PaymentReceived).paymentId;
  for (const d of await dlq.list()) {
    console.log(`pending ${paymentOf(d.message.payload)}: retriable=${String(d.envelope.retriable)}`);
  }
  const report = await dlq.redrive({ filter: { where: (d) => d.envelope.retriable } });
  for (const r of report.redriven) {
    const original = [...messageIds].find(([, id]) => id === r.messageId)?.[0];
    console.log(
      `redriven ${String(original)} to ${r.targetChannel}: original messageId kept=${String(original !== undefined)}, redriveCount=${r.redriveCount}`,
    );
  }
  console.log(`redrive ${report.status}: matched=${report.matched} redriven=${report.redriven.length}`);
  await until('the redriven payment is booked', () => processor.booked.includes('pay-1'));
  const left = (await dlq.list()).map((d) => paymentOf(d.message.payload));
  console.log(`still pending in payments.DLQ: ${left.join(', ')}; booked: ${processor.booked.join(', ')}`);

  await consumer.stop(2000);
  console.log(`\npayment-processor ${consumer.state} (stop drains in-flight messages first)`);
  await app.shutdown();
  console.log(`gomes ${app.state}`);
}

await main();
