// Nested payloads through the gomes API: the in-process bus and the in-memory transport (JSON on
// the wire). Handlers get the declared classes, nested ones included; invalid nested values are
// rejected on send (nothing sent) and dead-lettered on receive (non-retriable, never retried).
import 'reflect-metadata';
import {
  IsArray,
  IsDefined,
  IsInt,
  IsOptional,
  IsString,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { Type } from '../index.js';
import { Action } from '../actions/action.js';
import { Command } from '../actions/action-decorators.js';
import { defineCommandHandler } from '../actions/handler-definition.js';
import { ConfigurationError } from '../errors/configuration-error.js';
import { ValidationError } from '../errors/validation-error.js';
import { readDeadLetterEnvelope } from '../message/dead-letter-envelope.js';
import { waitFor } from '../testing/wait-for.js';
import { InMemoryBroker } from '../transport/in-memory/in-memory-broker.js';
import { inMemoryConnection } from '../transport/in-memory/in-memory-connection.js';
import { inMemoryConsumer } from '../transport/in-memory/in-memory-consumer-channel-builder.js';
import { inMemoryPublisher } from '../transport/in-memory/in-memory-publisher-channel-builder.js';
import { createGomes } from './create-gomes.js';
import type { GomesOptions } from './gomes-options.js';

class RequestMeta {
  @IsString() requestedBy!: string;
}

class OrderLine {
  @IsString() sku!: string;
  @IsInt() @Min(1) quantity!: number;
}

class Address {
  @IsString() city!: string;
}

@Command('nestedApp.placeOrder')
class PlaceOrder extends Action<string> {
  @IsString() customerId!: string;
  @IsDefined() @ValidateNested() @Type(() => RequestMeta) meta!: RequestMeta;
  @IsArray() @ValidateNested({ each: true }) @Type(() => OrderLine) lines!: OrderLine[];
  @IsOptional() @ValidateNested() @Type(() => Address) shipTo?: Address;
}

const validPayload = {
  customerId: 'c-1',
  meta: { requestedBy: 'ana' },
  lines: [
    { sku: 'book', quantity: 2 },
    { sku: 'pen', quantity: 1 },
  ],
};

/** An action built the way users do: nested values as object literals. */
const placeOrder = (fields: object): PlaceOrder => Object.assign(new PlaceOrder(), fields);

/** How often class-validator checked the `label` of a {@link Labelled} / {@link LabelledTo}. */
const labelChecks = { count: 0 };
const countLabelCheck = (): boolean => (labelChecks.count++, true);

/** No class-transformer metadata: in process the bus's validation is the only one. */
@Command('nestedApp.labelled')
class Labelled extends Action<string> {
  @ValidateIf(countLabelCheck) @IsString() label!: unknown;
}

/** With `@Type`: in process it is restored and checked again, as on receive. */
@Command('nestedApp.labelledTo')
class LabelledTo extends Action<string> {
  @ValidateIf(countLabelCheck) @IsString() label!: unknown;
  @IsOptional() @ValidateNested() @Type(() => Address) to?: Address;
}

interface Seen {
  order: PlaceOrder;
  classes: { meta: boolean; lines: boolean[]; shipTo: boolean | undefined };
}

function recordingHandler(seen: Seen[]) {
  return defineCommandHandler(PlaceOrder, (order) => {
    seen.push({
      order,
      classes: {
        meta: order.meta instanceof RequestMeta,
        lines: order.lines.map((l) => l instanceof OrderLine),
        shipTo: order.shipTo === undefined ? undefined : order.shipTo instanceof Address,
      },
    });
    return order.customerId;
  });
}

/** A gomes instance consuming `orders` from an in-memory broker, dead-lettering to `orders.DLQ`. */
function channelApp(broker: InMemoryBroker, seen: Seen[], options: Partial<GomesOptions> = {}) {
  return createGomes(options)
    .addChannelConnection(inMemoryConnection('mem', { broker }))
    .addPublisherChannel(inMemoryPublisher('mem', 'orders'))
    .addPublisherChannel(inMemoryPublisher('mem', 'orders.DLQ'))
    .addConsumerChannel(
      inMemoryConsumer('mem', 'orders', 'order-worker')
        .withRetry({ maxAttempts: 5, initialDelayMs: 1 })
        .withDeadLetterChannelName('orders.DLQ'),
    )
    .addActionHandler(recordingHandler(seen));
}

describe('nested payloads in process', () => {
  it('the handler gets the declared classes for nested literals', async () => {
    const seen: Seen[] = [];
    const app = createGomes().addActionHandler(recordingHandler(seen));
    await app.start();
    const result = await app.commandBus().send(placeOrder({ ...validPayload, shipTo: { city: 'Porto' } }));
    expect(result).toBe('c-1');
    expect(seen[0]!.classes).toEqual({ meta: true, lines: [true, true], shipTo: true });
    expect(seen[0]!.order).toBeInstanceOf(PlaceOrder);
    await app.shutdown();
  });

  it('rejects an invalid nested literal on send; the handler is not called', async () => {
    const seen: Seen[] = [];
    const app = createGomes().addActionHandler(recordingHandler(seen));
    await app.start();
    const error = await app
      .commandBus()
      .send(placeOrder({ ...validPayload, meta: { requestedBy: 42 } }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).violations).toEqual([
      { property: 'meta.requestedBy', constraints: { isString: 'requestedBy must be a string' } },
    ]);
    const lines = await app
      .commandBus()
      .send(placeOrder({ ...validPayload, lines: [{ sku: 'a', quantity: 0 }] }))
      .catch((e: unknown) => e);
    expect((lines as ValidationError).message).toBe(
      'Invalid nestedApp.placeOrder: lines.0.quantity: quantity must not be less than 1',
    );
    expect(seen).toHaveLength(0);
    await app.shutdown();
  });
});

describe('what the in-process handler gets, and how often it is validated', () => {
  it('a class without class-transformer metadata: the sent instance itself, validated once', async () => {
    const got: Labelled[] = [];
    const app = createGomes().addActionHandler(
      defineCommandHandler(Labelled, (l) => (got.push(l), String(l.label))),
    );
    await app.start();
    const action = Object.assign(new Labelled(), { label: 'a' });
    labelChecks.count = 0;
    expect(await app.commandBus().send(action)).toBe('a');
    expect(got[0]).toBe(action);
    expect(labelChecks.count).toBe(1);
    await app.shutdown();
  });

  it('with whitelist: the stripped copy the bus validated, not validated again; the sent action is unchanged', async () => {
    const got: Labelled[] = [];
    const app = createGomes({ validation: { whitelist: true } }).addActionHandler(
      defineCommandHandler(Labelled, (l) => (got.push(l), String(l.label))),
    );
    await app.start();
    const action = Object.assign(new Labelled(), { label: 'a', isAdmin: true });
    labelChecks.count = 0;
    expect(await app.commandBus().send(action)).toBe('a');
    expect(got[0]).not.toBe(action);
    expect(got[0]).toBeInstanceOf(Labelled);
    expect({ ...got[0] }).toEqual({ label: 'a' });
    expect(action).toEqual(Object.assign(new Labelled(), { label: 'a', isAdmin: true }));
    expect(labelChecks.count).toBe(1);
    await app.shutdown();
  });

  it('a class with @Type: restored (nested literals as their classes) and checked again, as on receive', async () => {
    const got: LabelledTo[] = [];
    const app = createGomes().addActionHandler(
      defineCommandHandler(LabelledTo, (l) => (got.push(l), String(l.label))),
    );
    await app.start();
    const action = Object.assign(new LabelledTo(), { label: 'b', to: { city: 'Porto' } });
    labelChecks.count = 0;
    expect(await app.commandBus().send(action)).toBe('b');
    expect(got[0]).not.toBe(action);
    expect(got[0]!.to).toBeInstanceOf(Address);
    expect(action.to).not.toBeInstanceOf(Address); // the caller's object is not modified
    expect(labelChecks.count).toBe(2); // on send (the restored copy) and in the dispatcher
    await app.shutdown();
  });
});

describe('nested payloads over the in-memory transport', () => {
  it('the handler gets the declared classes, nested ones and array elements included', async () => {
    const broker = new InMemoryBroker();
    const seen: Seen[] = [];
    const app = channelApp(broker, seen);
    await app.start();
    await app.eventDrivenConsumer('order-worker').run();
    await app.commandBusByChannel('orders').sendAsync(placeOrder(validPayload));
    await app
      .commandBusByChannel('orders')
      .sendAsync(placeOrder({ ...validPayload, shipTo: { city: 'Porto' } }));
    await waitFor(() => seen.length === 2);
    expect(seen.map((s) => s.classes)).toEqual([
      { meta: true, lines: [true, true], shipTo: undefined },
      { meta: true, lines: [true, true], shipTo: true },
    ]);
    expect(seen[0]!.order.meta.requestedBy).toBe('ana');
    expect(seen[1]!.order.shipTo?.city).toBe('Porto');
    await app.shutdown();
  });

  it('rejects an invalid nested literal on send: nothing is sent', async () => {
    const broker = new InMemoryBroker();
    const app = channelApp(broker, []);
    await app.start();
    const error = await app
      .commandBusByChannel('orders')
      .sendAsync(placeOrder({ ...validPayload, shipTo: { city: 7 } }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).message).toBe(
      'Invalid nestedApp.placeOrder: shipTo.city: city must be a string',
    );
    expect(broker.endOffset('orders', 0)).toBe(0n);
    await app.shutdown();
  });

  it('dead-letters invalid nested values on receive at once (non-retriable, with the violations), and handles the rest', async () => {
    const broker = new InMemoryBroker();
    const seen: Seen[] = [];
    const app = channelApp(broker, seen);
    await app.start();
    const consumer = app.eventDrivenConsumer('order-worker');
    await consumer.run();
    const raw = app.commandBusByChannel('orders');
    // sendRawAsync has no class, so nothing validates on send: the receiver must.
    await raw.sendRawAsync('nestedApp.placeOrder', { ...validPayload, meta: { requestedBy: 42 } });
    await raw.sendRawAsync('nestedApp.placeOrder', {
      ...validPayload,
      lines: [{ sku: 'a', quantity: 1 }, { sku: 'b' }],
    });
    await raw.sendRawAsync('nestedApp.placeOrder', { ...validPayload, shipTo: 'Porto' });
    await raw.sendRawAsync('nestedApp.placeOrder', validPayload);
    await waitFor(() => consumer.stats.deadLettered === 3 && consumer.stats.succeeded === 1);
    expect(consumer.stats.retried).toBe(0);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.classes).toEqual({ meta: true, lines: [true, true], shipTo: undefined });

    const envelopes = broker.records('orders.DLQ', 0).map((r) => readDeadLetterEnvelope(broker.decode(r))!);
    expect(envelopes.map((e) => [e.errorCode, e.retriable, e.attempts, e.originOffset])).toEqual([
      ['GOMES_VALIDATION', false, 1, '0'],
      ['GOMES_VALIDATION', false, 1, '1'],
      ['GOMES_VALIDATION', false, 1, '2'],
    ]);
    expect(envelopes.map((e) => e.errorMessage)).toEqual([
      'Invalid nestedApp.placeOrder: meta.requestedBy: requestedBy must be a string',
      'Invalid nestedApp.placeOrder: lines.1.quantity: quantity must not be less than 1; lines.1.quantity: quantity must be an integer number',
      'Invalid nestedApp.placeOrder: shipTo: nested property shipTo must be either object or array',
    ]);
    expect(broker.decode(broker.records('orders.DLQ', 0)[0]!).payload).toEqual({
      ...validPayload,
      meta: { requestedBy: 42 },
    });
    await app.shutdown();
  });

  it('whitelist strips undeclared nested properties before the handler; forbidNonWhitelisted dead-letters them', async () => {
    const broker = new InMemoryBroker();
    const stripped: Seen[] = [];
    const stripping = channelApp(broker, stripped, { validation: { whitelist: true } });
    await stripping.start();
    await stripping.eventDrivenConsumer('order-worker').run();
    const payload = {
      ...validPayload,
      isAdmin: true,
      meta: { requestedBy: 'ana', token: 's3cret' },
    };
    await stripping.commandBusByChannel('orders').sendRawAsync('nestedApp.placeOrder', payload);
    await waitFor(() => stripped.length === 1);
    expect(JSON.parse(JSON.stringify(stripped[0]!.order))).toEqual(validPayload);
    expect(stripped[0]!.classes.meta).toBe(true);
    await stripping.shutdown();

    const strictBroker = new InMemoryBroker();
    const handled: Seen[] = [];
    const strict = channelApp(strictBroker, handled, {
      validation: { whitelist: true, forbidNonWhitelisted: true },
    });
    await strict.start();
    const consumer = strict.eventDrivenConsumer('order-worker');
    await consumer.run();
    await strict.commandBusByChannel('orders').sendRawAsync('nestedApp.placeOrder', payload);
    await waitFor(() => consumer.stats.deadLettered === 1);
    expect(handled).toHaveLength(0);
    const envelope = readDeadLetterEnvelope(strictBroker.decode(strictBroker.records('orders.DLQ', 0)[0]!));
    expect(envelope?.errorMessage).toBe(
      'Invalid nestedApp.placeOrder: isAdmin: property isAdmin should not exist; meta.token: property token should not exist',
    );
    // And on send: nothing is sent.
    const error = await strict
      .commandBusByChannel('orders')
      .sendAsync(placeOrder(payload))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(strictBroker.endOffset('orders', 0)).toBe(1n);
    await strict.shutdown();
  });

  it('whitelist leaves classes without validation decorators alone (they are not validated)', async () => {
    @Command('nestedApp.free')
    class FreeForm {
      note?: string;
      @Type(() => Address) to?: Address;
    }
    const broker = new InMemoryBroker();
    const got: FreeForm[] = [];
    const app = createGomes({ validation: { whitelist: true, forbidNonWhitelisted: true } })
      .addChannelConnection(inMemoryConnection('mem', { broker }))
      .addPublisherChannel(inMemoryPublisher('mem', 'free'))
      .addConsumerChannel(inMemoryConsumer('mem', 'free', 'free-worker'))
      .addActionHandler(defineCommandHandler(FreeForm, (f) => void got.push(f)));
    await app.start();
    await app.eventDrivenConsumer('free-worker').run();
    await app
      .commandBusByChannel('free')
      .sendAsync(Object.assign(new FreeForm(), { note: 'n', to: { city: 'Porto' } }));
    await waitFor(() => got.length === 1);
    expect({ ...got[0] }).toEqual({ note: 'n', to: { city: 'Porto' } });
    expect(got[0]!.to).toBeInstanceOf(Address);
    await app.shutdown();
  });

  it('whitelist on send: the message carries only the declared properties', async () => {
    const broker = new InMemoryBroker();
    const app = createGomes({ validation: { whitelist: true } })
      .addChannelConnection(inMemoryConnection('mem', { broker }))
      .addPublisherChannel(inMemoryPublisher('mem', 'orders'));
    await app.start();
    const action = placeOrder({ ...validPayload, isAdmin: true, meta: { requestedBy: 'ana', token: 'x' } });
    await app.commandBusByChannel('orders').sendAsync(action);
    expect(broker.decode(broker.records('orders', 0)[0]!).payload).toEqual(validPayload);
    expect(action.meta).toEqual({ requestedBy: 'ana', token: 'x' });
    await app.shutdown();
  });
});

describe('nested validation configuration', () => {
  it('start() fails on @ValidateNested() without @Type(), and on forbidNonWhitelisted without whitelist', async () => {
    class Meta {
      @IsString() by!: string;
    }
    @Command('nestedApp.untyped')
    class Untyped {
      @ValidateNested() meta!: Meta;
    }
    const app = createGomes().addActionHandler(defineCommandHandler(Untyped, () => undefined));
    const error = await app.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).message).toContain(
      "Untyped.meta has @ValidateNested() but no @Type(): received values stay plain objects and are not validated; add @Type(() => Meta) (import { Type } from '@gomes/core')",
    );
    expect(() => createGomes({ validation: { forbidNonWhitelisted: true } })).toThrow(
      /validation\.forbidNonWhitelisted needs validation\.whitelist: true/,
    );
  });
});
