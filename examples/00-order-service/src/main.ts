/**
 * Example 00 — an order service on the in-memory transport (no broker).
 *
 * One gomes instance, one in-memory connection, and these channels:
 *
 *   orders.commands      commands; the publisher stamps replyTo=orders.replies (request-reply)
 *   orders.replies       replies to those commands (consumed by the instance's reply listener)
 *   orders.events        events; one consumer runs both OrderPlaced handlers
 *   orders.commands.DLQ  commands that failed for good, read back by a dead-letter inspector
 *
 * The story: a command sent over the channel returns the REMOTE handler's result; the handler
 * publishes an event that two handlers consume; a command whose handler keeps failing is retried
 * with exponential backoff, then dead-lettered (the requester gets the remote error, the DLQ gets
 * an envelope); invalid commands are rejected on send and on receive; stats, the endpoint table,
 * then a graceful shutdown.
 *
 * Run: pnpm start   (= pnpm build && node examples/00-order-service/dist/main.js)
 */
import 'reflect-metadata';
import { IsInt, IsPositive, IsString, Min, MinLength } from 'class-validator';
import {
  Action,
  Command,
  CommandHandler,
  Event,
  EventHandler,
  ValidationError,
  createGomes,
  inMemoryConnection,
  inMemoryConsumer,
  inMemoryPublisher,
  isGomesError,
  readDeadLetterEnvelope,
  type DeadLetterEnvelope,
  type EventBus,
  type HandlerContext,
  type HandlerMiddleware,
  type LogFields,
  type Logger,
} from '@gomes/core';

// ---------------------------------------------------------------- the contract (wire names)

@Command('placeOrder')
class PlaceOrder extends Action<string> {
  @IsString() @MinLength(3) customerId: string;
  @IsString() @MinLength(3) sku: string;
  @IsInt() @Min(1) quantity: number;
  constructor(customerId: string, sku: string, quantity: number) {
    super();
    this.customerId = customerId;
    this.sku = sku;
    this.quantity = quantity;
  }
}

@Command('chargePayment')
class ChargePayment extends Action<string> {
  @IsString() orderId: string;
  @IsPositive() amount: number;
  constructor(orderId: string, amount: number) {
    super();
    this.orderId = orderId;
    this.amount = amount;
  }
}

@Event('orderPlaced')
class OrderPlaced {
  constructor(
    readonly orderId: string,
    readonly customerId: string,
    readonly sku: string,
    readonly quantity: number,
  ) {}
}

// ---------------------------------------------------------------- handlers

@CommandHandler(PlaceOrder)
class PlaceOrderHandler {
  #next = 1000;
  constructor(private readonly events: EventBus) {}
  async handle(command: PlaceOrder, context: HandlerContext): Promise<string> {
    const orderId = `order-${++this.#next}`;
    console.log(
      `  [order-service] placeOrder ${command.quantity} x ${command.sku} for ${command.customerId} -> ${orderId}`,
    );
    // The event continues the conversation: same correlationId, caused by this command.
    await this.events.publish(new OrderPlaced(orderId, command.customerId, command.sku, command.quantity), {
      causationId: context.messageId,
      partitionKey: orderId,
      ...(context.correlationId ? { correlationId: context.correlationId } : {}),
    });
    return orderId;
  }
}

@CommandHandler(ChargePayment)
class ChargePaymentHandler {
  attempts = 0;
  handle(command: ChargePayment): string {
    this.attempts++;
    console.log(
      `  [order-service] chargePayment ${command.orderId} attempt ${this.attempts}: payment gateway down`,
    );
    throw new Error('payment gateway unavailable');
  }
}

@EventHandler(OrderPlaced)
class BillingProjection {
  readonly invoices: string[] = [];
  handle(event: OrderPlaced, context: HandlerContext): void {
    this.invoices.push(event.orderId);
    console.log(
      `  [billing] invoice drafted for ${event.orderId} (causationId=${context.message.causationId})`,
    );
  }
}

@EventHandler(OrderPlaced)
class ShippingNotifier {
  readonly shipments: string[] = [];
  handle(event: OrderPlaced): void {
    this.shipments.push(event.orderId);
    console.log(`  [shipping] shipment scheduled for ${event.orderId}: ${event.quantity} x ${event.sku}`);
  }
}

// ---------------------------------------------------------------- helpers

/** Prints gomes' warnings (retries, dead letters) and errors; drops debug and info. */
function storyLogger(bindings: LogFields = {}): Logger {
  const print = (level: string, message: string, fields: LogFields = {}): void => {
    const f = { ...bindings, ...fields };
    if (message.startsWith('Message processing failed; retrying')) {
      console.log(
        `  [gomes] ${String(f['consumer'])}: attempt ${String(f['attempt'])}/${String(f['maxAttempts'])} failed, ` +
          `retrying in ${String(f['delayMs'])} ms`,
      );
    } else if (message === 'Message dead-lettered') {
      console.log(
        `  [gomes] ${String(f['consumer'])}: dead-lettered to ${String(f['deadLetterChannel'])} after ` +
          `${String(f['attempts'])} attempt(s)`,
      );
    } else {
      console.log(`  [gomes ${level}] ${message}`);
    }
  };
  return {
    debug: () => undefined,
    info: () => undefined,
    warn: (message, fields) => print('warn', message, fields),
    error: (message, fields) => print('error', message, fields),
    child: (more) => storyLogger({ ...bindings, ...more }),
  };
}

async function until(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function step(title: string): void {
  console.log(`\n== ${title}`);
}

function describeError(error: unknown): string {
  return isGomesError(error) ? `${error.code}: ${error.message}` : String(error);
}

// ---------------------------------------------------------------- main

export async function main(): Promise<void> {
  const startedAt = Date.now();
  const app = createGomes({
    name: 'order-service',
    logger: storyLogger(),
    requestTimeoutMs: 5000,
    shutdownTimeoutMs: 5000,
  });

  // Dead letters are read back by a consumer whose middleware inspects them instead of dispatching.
  const deadLetters: { envelope: DeadLetterEnvelope; payload: unknown }[] = [];
  const inspectDeadLetter: HandlerMiddleware = () => async (message) => {
    const envelope = readDeadLetterEnvelope(message);
    if (envelope) deadLetters.push({ envelope, payload: message.payload });
    return Promise.resolve(undefined);
  };

  const billing = new BillingProjection();
  const shipping = new ShippingNotifier();
  const charge = new ChargePaymentHandler();

  app
    .addChannelConnection(inMemoryConnection('memory', { brokerOptions: { defaultPartitions: 3 } }))
    .addPublisherChannel(
      inMemoryPublisher('memory', 'orders.commands').withReplyChannelName('orders.replies'),
    )
    .addPublisherChannel(inMemoryPublisher('memory', 'orders.replies'))
    .addPublisherChannel(inMemoryPublisher('memory', 'orders.events'))
    .addPublisherChannel(inMemoryPublisher('memory', 'orders.commands.DLQ'))
    .addConsumerChannel(
      inMemoryConsumer('memory', 'orders.commands', 'order-service')
        .withRetry({ maxAttempts: 3, initialDelayMs: 100, multiplier: 2, maxDelayMs: 1000 })
        .withDeadLetterChannelName('orders.commands.DLQ')
        .withSendReplyUsingReplyTo(),
    )
    .addConsumerChannel(inMemoryConsumer('memory', 'orders.replies', 'order-service.replies'))
    .addConsumerChannel(inMemoryConsumer('memory', 'orders.events', 'order-projections'))
    .addConsumerChannel(
      inMemoryConsumer('memory', 'orders.commands.DLQ', 'dlq-inspector').withMiddleware(inspectDeadLetter),
    )
    .addActionHandler(new PlaceOrderHandler(app.eventBusByChannel('orders.events')))
    .addActionHandler(charge)
    .addActionHandler(billing)
    .addActionHandler(shipping);

  step('1. start: validate the configuration, connect, build channels, run consumers');
  await app.start();
  const orderService = app
    .eventDrivenConsumer('order-service')
    .withAmountOfProcessors(4)
    .withMessageProcessingTimeout(2000);
  const projections = app.eventDrivenConsumer('order-projections').withAmountOfProcessors(2);
  const dlqInspector = app.eventDrivenConsumer('dlq-inspector');
  await Promise.all([orderService.run(), projections.run(), dlqInspector.run()]);
  console.log(
    `started: state=${app.state}; consumers: ${[orderService, projections, dlqInspector].map((c) => `${c.name}=${c.state}`).join(', ')}`,
  );

  const commands = app.commandBusByChannel('orders.commands');

  step('2. request-reply over orders.commands: send() resolves to the remote handler result');
  // The handler also publishes orderPlaced to orders.events, so the event handlers may print here too.
  const orderId = await commands.send(new PlaceOrder('customer-7', 'book-42', 2), {
    correlationId: 'checkout-1',
  });
  console.log(`reply received: placeOrder -> ${orderId}`);

  step('3. orderPlaced, published by the handler to orders.events, is consumed by two handlers');
  await until(
    'both event handlers',
    () => billing.invoices.includes(orderId) && shipping.shipments.includes(orderId),
  );
  console.log(
    `orderPlaced handled by 2 handlers: billing=${billing.invoices.join(',')} shipping=${shipping.shipments.join(',')}`,
  );

  step('4. a failing command: retried with exponential backoff, then dead-lettered');
  try {
    await commands.send(new ChargePayment(orderId, 59.9), { correlationId: 'checkout-1' });
    throw new Error('chargePayment should have failed');
  } catch (error) {
    console.log(`requester got the remote error: ${describeError(error)}`);
  }
  await until('the dead letter', () => deadLetters.length === 1);
  const first = deadLetters[0]!;
  console.log('dead-letter envelope read from orders.commands.DLQ:');
  console.log(`  error:          ${first.envelope.errorName}: ${first.envelope.errorMessage}`);
  console.log(`  retriable:      ${String(first.envelope.retriable)}`);
  console.log(`  attempts:       ${first.envelope.attempts}`);
  console.log(
    `  origin:         ${String(first.envelope.originChannel)} partition ${String(first.envelope.originPartition)} offset ${String(first.envelope.originOffset)}`,
  );
  console.log(`  consumer:       ${String(first.envelope.consumer)}`);
  console.log(`  first failure:  ${String(first.envelope.firstFailureAt?.toISOString())}`);
  console.log(`  last failure:   ${String(first.envelope.lastFailureAt?.toISOString())}`);
  console.log(
    `  original route: ${String(first.envelope.originalHeaders['route'])}, correlationId ${String(first.envelope.originalHeaders['correlationId'])}`,
  );
  console.log(`  payload:        ${JSON.stringify(first.payload)}`);

  step('5. validation: rejected on send (nothing sent) and on receive (dead-lettered, no retry)');
  try {
    await commands.send(new PlaceOrder('c', '', 0));
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    console.log(`rejected on send: ${error.message}`);
  }
  try {
    // sendRaw skips the class (and so the local validation): the receiver validates it.
    await commands.sendRaw('placeOrder', { customerId: 'customer-7', sku: 'book-42', quantity: -1 });
  } catch (error) {
    console.log(`rejected on receive: ${describeError(error)}`);
  }
  await until('the second dead letter', () => deadLetters.length === 2);
  const second = deadLetters[1]!.envelope;
  console.log(
    `dead letter #2: ${String(second.errorCode)}, attempts ${second.attempts}, retriable ${String(second.retriable)}`,
  );

  step('6. consumer stats');
  await until('every consumer to settle', () =>
    [orderService, projections, dlqInspector].every((c) => c.stats.inFlight === 0),
  );
  for (const consumer of [orderService, projections, dlqInspector]) {
    const s = consumer.stats;
    console.log(
      `${consumer.name.padEnd(17)} received=${s.received} succeeded=${s.succeeded} retried=${s.retried} ` +
        `deadLettered=${s.deadLettered} failed=${s.failed} acked=${s.acked} nacked=${s.nacked} inFlight=${s.inFlight}`,
    );
  }

  step('7. active endpoints');
  app.showActiveEndpoints((table) => console.log(table));

  step('8. graceful shutdown: stop consumers (drain), close publishers, disconnect');
  await app.shutdown();
  console.log(
    `shutdown complete: state=${app.state}; consumers: ${[orderService, projections, dlqInspector].map((c) => `${c.name}=${c.state}`).join(', ')}`,
  );
  console.log(`done in ${Date.now() - startedAt} ms`);
}

await main();
