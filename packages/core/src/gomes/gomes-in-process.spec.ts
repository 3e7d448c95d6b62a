import 'reflect-metadata';
import { IsInt, IsString, Min, ValidateIf } from 'class-validator';
import { Action } from '../actions/action.js';
import { Command, Event, Query } from '../actions/action-decorators.js';
import { CommandHandler } from '../actions/handler-decorators.js';
import {
  defineCommandHandler,
  defineEventHandler,
  defineQueryHandler,
} from '../actions/handler-definition.js';
import type { HandlerContext } from '../actions/handler-context.js';
import { ValidationError } from '../errors/validation-error.js';
import { isGomesError } from '../errors/gomes-error.js';
import { createGomes } from './create-gomes.js';
import { recordingLogger } from '../../test/support/recording-logger.js';

@Command('createOrder')
class CreateOrder extends Action<string> {
  @IsString() sku!: string;
  @IsInt() @Min(1) qty!: number;
  constructor(sku: string, qty: number) {
    super();
    this.sku = sku;
    this.qty = qty;
  }
}

@Query('countOrders')
class CountOrders extends Action<number> {}

@Event('orderCreated')
class OrderCreated {
  constructor(readonly id: string) {}
}

@Command('unhandled')
class Unhandled {}

/** Counts how often class-validator checks `name`. */
const nameChecks = { count: 0 };

@Command('rename')
class Rename extends Action<string> {
  @ValidateIf(() => {
    nameChecks.count++;
    return true;
  })
  @IsString()
  name!: unknown;
  constructor(name: unknown) {
    super();
    this.name = name;
  }
}

describe('in-process buses', () => {
  it('send resolves to the typed handler result and passes a context', async () => {
    const app = createGomes();
    const seen: HandlerContext[] = [];
    @CommandHandler(CreateOrder)
    class CreateOrderHandler {
      handle(cmd: CreateOrder, ctx: HandlerContext): string {
        seen.push(ctx);
        return `order-${cmd.sku}-${cmd.qty}`;
      }
    }
    app.addActionHandler(new CreateOrderHandler());
    await app.start();
    const id: string = await app
      .commandBus()
      .send(new CreateOrder('abc', 2), { correlationId: 'corr-1', headers: { tenant: 't' } });
    expect(id).toBe('order-abc-2');
    // Type-level check (pnpm typecheck): the result type is inferred from Action<string>.
    // @ts-expect-error a string result is not a number
    const wrong: number = await app.commandBus().send(new CreateOrder('abc', 1));
    expect(typeof wrong).toBe('string');
    expect(seen[0]!.correlationId).toBe('corr-1');
    expect(seen[0]!.headers['tenant']).toBe('t');
    expect(seen[0]!.message.route).toBe('createOrder');
    expect(seen[0]!.message.messageType).toBe('Command');
    expect(seen[0]!.signal.aborted).toBe(false);
    expect([seen[0]!.attempt, seen[0]!.deliveryAttempt]).toEqual([1, 1]);
    await app.shutdown();
  });

  it('rejects an invalid command with the constraint messages and never calls the handler', async () => {
    const app = createGomes();
    const handle = jest.fn(() => 'x');
    app.addActionHandler(defineCommandHandler(CreateOrder, handle));
    await app.start();
    const error = await app
      .commandBus()
      .send(new CreateOrder('', 0))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).message).toContain('qty must not be less than 1');
    expect(handle).not.toHaveBeenCalled();
    await app.shutdown();
  });

  it('queryBus returns the query result', async () => {
    const app = createGomes();
    app.addActionHandler(defineQueryHandler(CountOrders, () => 7));
    await app.start();
    const n: number = await app.queryBus().send(new CountOrders());
    expect(n).toBe(7);
    await app.shutdown();
  });

  it('eventBus fans out to every local handler', async () => {
    const app = createGomes();
    const got: string[] = [];
    app.addActionHandler(defineEventHandler(OrderCreated, (e) => void got.push(`a:${e.id}`)));
    app.addActionHandler(defineEventHandler(OrderCreated, (e) => void got.push(`b:${e.id}`)));
    await app.start();
    await app.eventBus().publish(new OrderCreated('1'));
    expect(got.sort()).toEqual(['a:1', 'b:1']);
    await app.shutdown();
  });

  it('an event publish fails when one of its handlers fails, naming it', async () => {
    const app = createGomes();
    app.addActionHandler(defineEventHandler(OrderCreated, () => undefined));
    app.addActionHandler(
      defineEventHandler(OrderCreated, function failing() {
        throw new Error('projection down');
      }),
    );
    await app.start();
    await expect(app.eventBus().publish(new OrderCreated('1'))).rejects.toThrow('projection down');
    await app.shutdown();
  });

  it('sendAsync resolves before the handler ran; a failure reaches onUnhandledError', async () => {
    const app = createGomes();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let ran = false;
    app.addActionHandler(
      defineCommandHandler(CreateOrder, async () => {
        await gate;
        ran = true;
        throw new Error('async failure');
      }),
    );
    const failures: Error[] = [];
    app.onUnhandledError((e) => failures.push(e));
    await app.start();
    await app.commandBus().sendAsync(new CreateOrder('a', 1));
    expect(ran).toBe(false);
    release();
    await app.shutdown(); // waits for in-process async work
    expect(ran).toBe(true);
    expect(failures.map((e) => e.message)).toEqual(['async failure']);
  });

  it('sendAsync, sendRawAsync, publish and publishRaw resolve to the messageId the handler sees', async () => {
    const app = createGomes();
    const seen: string[] = [];
    app.addActionHandler(
      defineCommandHandler(CreateOrder, (_c, ctx) => {
        seen.push(ctx.messageId);
        return 'ok';
      }),
    );
    app.addActionHandler(defineEventHandler(OrderCreated, (_e, ctx) => void seen.push(ctx.messageId)));
    await app.start();
    const returned = [
      await app.commandBus().sendAsync(new CreateOrder('a', 1)),
      await app.commandBus().sendRawAsync('createOrder', { sku: 'b', qty: 1 }),
      await app.eventBus().publish(new OrderCreated('1')),
      await app.eventBus().publishRaw('orderCreated', { id: '2' }),
    ];
    await app.shutdown(); // waits for the async sends' handlers
    expect(new Set(returned).size).toBe(4);
    expect([...seen].sort()).toEqual([...returned].sort());
  });

  it('after shutdown() every in-process bus rejects with GOMES_CLOSED and runs no handler', async () => {
    const app = createGomes();
    const handled: string[] = [];
    app.addActionHandler(
      defineCommandHandler(CreateOrder, () => {
        handled.push('command');
        return 'ok';
      }),
    );
    app.addActionHandler(defineQueryHandler(CountOrders, () => handled.push('query')));
    app.addActionHandler(defineEventHandler(OrderCreated, () => void handled.push('event')));
    await app.start();
    await app.shutdown();
    const outcomes = await Promise.all(
      [
        app.queryBus().send(new CountOrders()),
        app.queryBus().sendAsync(new CountOrders()),
        app.commandBus().send(new CreateOrder('a', 1)),
        app.commandBus().sendRawAsync('createOrder', { sku: 'a', qty: 1 }),
        app.eventBus().publish(new OrderCreated('1')),
      ].map(async (p) =>
        p.then(
          () => 'resolved',
          (e: unknown) => (isGomesError(e) ? e.code : String(e)),
        ),
      ),
    );
    expect(outcomes).toEqual(Array(5).fill('GOMES_CLOSED'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(handled).toEqual([]);
  });

  it('a throwing onUnhandledError listener is logged, does not stop the other listeners and causes no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const logger = recordingLogger();
      const app = createGomes({ logger });
      app.addActionHandler(
        defineCommandHandler(CreateOrder, () => {
          throw new Error('async failure');
        }),
      );
      const seen: string[] = [];
      app.onUnhandledError(() => {
        throw new Error('listener bug');
      });
      app.onUnhandledError((e) => seen.push(e.message));
      await app.start();
      await app.commandBus().sendAsync(new CreateOrder('a', 1));
      await app.shutdown();
      expect(seen).toEqual(['async failure']);
      expect(logger.lines).toContainEqual(
        expect.objectContaining({
          level: 'error',
          message: 'onUnhandledError listener threw',
          fields: expect.objectContaining({ errorMessage: 'listener bug', reportedError: 'async failure' }),
        }),
      );
      for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('rejects a command without a handler, and an event sent on the command bus', async () => {
    const app = createGomes();
    app.addActionHandler(defineQueryHandler(CountOrders, () => 1));
    await app.start();
    const notFound = await app
      .commandBus()
      .send(new Unhandled())
      .catch((e: unknown) => e);
    expect(isGomesError(notFound) && notFound.code).toBe('GOMES_HANDLER_NOT_FOUND');
    await expect(app.commandBus().send(new OrderCreated('x') as never)).rejects.toThrow(
      /"orderCreated" is an event; send it through the event bus, not the command bus$/,
    );
    await expect(app.commandBus().send({})).rejects.toThrow(/is not an action/);
    await app.shutdown();
  });

  it('validates an action once per send (the dispatcher does not check the instance the bus checked); raw payloads once, by the dispatcher', async () => {
    const app = createGomes();
    app.addActionHandler(defineCommandHandler(Rename, (cmd) => String(cmd.name)));
    await app.start();
    nameChecks.count = 0;
    expect(await app.commandBus().send(new Rename('a'))).toBe('a');
    expect(nameChecks.count).toBe(1);
    await expect(app.commandBus().send(new Rename(42))).rejects.toBeInstanceOf(ValidationError);
    expect(nameChecks.count).toBe(2);
    expect(await app.commandBus().sendRaw('rename', { name: 'b' })).toBe('b');
    expect(nameChecks.count).toBe(3);
    await expect(app.commandBus().sendRaw('rename', { name: 7 })).rejects.toBeInstanceOf(ValidationError);
    expect(nameChecks.count).toBe(4);
    await app.shutdown();
  });

  it('sendRaw routes by an explicit name without a class', async () => {
    const app = createGomes();
    app.addActionHandler(defineCommandHandler(CreateOrder, (c) => `${c.sku}`));
    await app.start();
    expect(await app.commandBus().sendRaw('createOrder', { sku: 'raw', qty: 1 })).toBe('raw');
    await app.shutdown();
  });

  it('two instances in one process do not see each other', async () => {
    const a = createGomes();
    const b = createGomes();
    a.addActionHandler(defineQueryHandler(CountOrders, () => 1));
    b.addActionHandler(defineQueryHandler(CountOrders, () => 2));
    await Promise.all([a.start(), b.start()]);
    expect(await a.queryBus().send(new CountOrders())).toBe(1);
    expect(await b.queryBus().send(new CountOrders())).toBe(2);
    const c = createGomes();
    await c.start();
    await expect(c.queryBus().send(new CountOrders())).rejects.toThrow(
      /No handler is registered for "countOrders"/,
    );
    await Promise.all([a.shutdown(), b.shutdown(), c.shutdown()]);
  });
});
