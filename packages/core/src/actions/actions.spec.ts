import 'reflect-metadata';
import { IsInt, IsString, Min } from 'class-validator';
import { Action } from './action.js';
import { Command, Event, Query } from './action-decorators.js';
import { getActionDescriptor, getHandlerDescriptor } from './action-metadata.js';
import { ActionRegistry } from './action-registry.js';
import { needsValidation, toActionInstance, validateAction } from './action-validation.js';
import { CommandHandler, EventHandler, QueryHandler } from './handler-decorators.js';
import { defineCommandHandler, defineEventHandler, toHandlerDefinition } from './handler-definition.js';
import { ValidationError } from '../errors/validation-error.js';

class Repo {}

@Command('createOrder', { version: '2' })
class CreateOrder extends Action<string> {
  @IsString() sku!: string;
  @IsInt() @Min(1) qty!: number;
}

@Query('getOrder')
class GetOrder extends Action<{ id: string }> {
  @IsString() id!: string;
}

@Event('orderCreated')
class OrderCreated {
  @IsString() id!: string;
}

class NotAnAction {}

@CommandHandler(CreateOrder)
class CreateOrderHandler {
  constructor(readonly repo: Repo) {}
  handle(cmd: CreateOrder): string {
    return `${cmd.sku}x${cmd.qty}`;
  }
}

describe('decorators', () => {
  it('record the action kind, wire name and version', () => {
    expect(getActionDescriptor(CreateOrder)).toEqual({ kind: 'command', name: 'createOrder', version: '2' });
    expect(getActionDescriptor(GetOrder)).toEqual({ kind: 'query', name: 'getOrder', version: undefined });
    expect(getActionDescriptor(OrderCreated)?.kind).toBe('event');
    expect(getActionDescriptor(NotAnAction)).toBeUndefined();
  });

  it('record the handled action on handler classes', () => {
    expect(getHandlerDescriptor(CreateOrderHandler)).toEqual({ kind: 'command', action: CreateOrder });
  });

  it('keep emitting design-time metadata (toolchain smoke test: fails if decorator metadata is dropped)', () => {
    expect(Reflect.getMetadata('design:paramtypes', CreateOrderHandler)).toEqual([Repo]);
    expect(Reflect.getMetadata('design:type', CreateOrder.prototype, 'qty')).toBe(Number);
  });

  it('desugar to a handler definition bound to the instance', async () => {
    const def = toHandlerDefinition(new CreateOrderHandler(new Repo()));
    expect(def.kind).toBe('command');
    expect(def.action).toBe(CreateOrder);
    expect(def.handlerName).toBe('CreateOrderHandler');
    const cmd = Object.assign(new CreateOrder(), { sku: 'a', qty: 2 });
    expect(await def.handle(cmd as never, {} as never)).toBe('ax2');
  });

  it('reject registrations that are neither definitions nor decorated handlers', () => {
    expect(() => toHandlerDefinition({ handle: () => 1 })).toThrow(/addActionHandler expects/);
    expect(() => toHandlerDefinition(42)).toThrow(/addActionHandler expects/);
  });
});

describe('ActionRegistry', () => {
  it('allows one handler per command and many per event', () => {
    const r = new ActionRegistry();
    r.register(defineCommandHandler(CreateOrder, () => 'a'));
    r.register(defineCommandHandler(CreateOrder, () => 'b'));
    r.register(defineEventHandler(OrderCreated, () => undefined));
    r.register(defineEventHandler(OrderCreated, () => undefined));
    expect(r.get('createOrder')?.handlers).toHaveLength(1);
    expect(r.get('orderCreated')?.handlers).toHaveLength(2);
    expect(r.problems()).toEqual([
      expect.stringContaining('command "createOrder" has more than one handler'),
    ]);
  });

  it('records undecorated actions, kind mismatches and name clashes as problems', () => {
    @Command('createOrder')
    class Imposter {}
    const r = new ActionRegistry();
    r.register(defineCommandHandler(NotAnAction as never, () => 1));
    r.register(defineEventHandler(CreateOrder, () => undefined));
    r.register(defineCommandHandler(CreateOrder, () => 'ok'));
    r.register(defineCommandHandler(Imposter as never, () => 'x'));
    expect(r.problems()).toEqual([
      expect.stringContaining('NotAnAction, which is not decorated'),
      expect.stringContaining('is an event handler but CreateOrder is a command'),
      expect.stringContaining('action name "createOrder" is used by two classes: CreateOrder and Imposter'),
    ]);
  });

  it('describes instances of decorated classes and rejects others', () => {
    const r = new ActionRegistry();
    expect(r.describe(new GetOrder()).name).toBe('getOrder');
    expect(() => r.describe(new NotAnAction())).toThrow(/is not an action/);
  });
});

describe('validation', () => {
  it('passes valid actions and lists every violation of invalid ones', async () => {
    const action = Object.assign(new CreateOrder(), { sku: 's', qty: 1 });
    await expect(validateAction(action, 'createOrder')).resolves.toBe(action);
    const error = await validateAction(
      Object.assign(new CreateOrder(), { sku: 5, qty: 0 }),
      'createOrder',
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    const v = error as ValidationError;
    expect(v.retriable).toBe(false);
    expect(v.violations.map((x) => x.property).sort()).toEqual(['qty', 'sku']);
    expect(v.message).toContain('qty must not be less than 1');
    expect(v.message).toContain('sku must be a string');
  });

  it('accepts classes without any validation decorator', async () => {
    const action = new NotAnAction();
    await expect(validateAction(action, 'x')).resolves.toBe(action);
  });

  it('turns plain payloads into instances without calling the constructor', () => {
    const instance = toActionInstance<CreateOrderHandler>(CreateOrderHandler, { repo: 'plain' });
    expect(instance).toBeInstanceOf(CreateOrderHandler);
    expect(instance.repo).toBe('plain');
    const existing = new GetOrder();
    expect(toActionInstance(GetOrder, existing)).toBe(existing);
  });
});

describe('toActionInstance with hostile or malformed payloads', () => {
  it('does not let a JSON "__proto__" key replace the prototype and bypass validation', async () => {
    const payload = JSON.parse(
      '{"__proto__": {}, "constructor": {"x": 1}, "prototype": 1, "sku": "a", "qty": -5}',
    ) as unknown;
    const instance = toActionInstance(CreateOrder, payload, 'createOrder');
    expect(instance).toBeInstanceOf(CreateOrder);
    expect(Object.getPrototypeOf(instance)).toBe(CreateOrder.prototype);
    expect(Object.prototype.hasOwnProperty.call(instance, 'constructor')).toBe(false);
    expect(Object.prototype.hasOwnProperty.call(instance, 'prototype')).toBe(false);
    expect(instance.qty).toBe(-5);
    expect(needsValidation(instance)).toBe(true);
    const error = await validateAction(instance, 'createOrder').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).message).toContain('qty must not be less than 1');
  });

  it('copies own data as plain properties, without running setters of the class', () => {
    class WithSetter {
      set name(_v: string) {
        throw new Error('setter ran');
      }
    }
    const instance: object = toActionInstance(WithSetter, { name: 'x' });
    expect(Object.getOwnPropertyDescriptor(instance, 'name')?.value).toBe('x');
  });

  it('copies own data as writable, enumerable, configurable properties in payload order, methods of the class included', () => {
    class Plain {
      describe(): string {
        return 'method';
      }
    }
    const instance = toActionInstance(Plain, { b: 1, a: 'x', describe: 'shadowed', toString: 't' });
    expect(Object.keys(instance)).toEqual(['b', 'a', 'describe', 'toString']);
    for (const key of ['b', 'a', 'describe', 'toString']) {
      expect(Object.getOwnPropertyDescriptor(instance, key)).toEqual({
        value: ({ b: 1, a: 'x', describe: 'shadowed', toString: 't' } as Record<string, unknown>)[key],
        writable: true,
        enumerable: true,
        configurable: true,
      });
    }
  });

  it('copies own data even over a read-only property or an inherited setter of the class', () => {
    class Base {
      set inherited(_v: string) {
        throw new Error('setter ran');
      }
    }
    class ReadOnly extends Base {}
    Object.defineProperty(ReadOnly.prototype, 'fixed', { value: 'proto', writable: false });
    const instance: object = toActionInstance(ReadOnly, { fixed: 'own', inherited: 'x' });
    expect(Object.getOwnPropertyDescriptor(instance, 'fixed')?.value).toBe('own');
    expect(Object.getOwnPropertyDescriptor(instance, 'inherited')?.value).toBe('x');
  });

  it.each([
    ['null', null],
    ['an array', [1, 2]],
    ['a string', 'hello'],
    ['a number', 42],
    ['a boolean', true],
  ])('rejects %s payload with a non-retriable ValidationError', (what, payload) => {
    let error: unknown;
    try {
      toActionInstance(CreateOrder, payload, 'createOrder');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).code).toBe('GOMES_VALIDATION');
    expect((error as ValidationError).retriable).toBe(false);
    expect((error as ValidationError).message).toBe(
      `Invalid createOrder: (payload): the payload must be a JSON object, got ${what}`,
    );
  });

  it('turns an undefined payload into an instance with no fields', () => {
    expect(toActionInstance(GetOrder, undefined)).toBeInstanceOf(GetOrder);
  });
});

describe('needsValidation', () => {
  it('notices constraints added to a class after a first lookup found none', () => {
    class LateDecorated {
      qty!: number;
    }
    expect(needsValidation(new LateDecorated())).toBe(false);
    Min(1)(LateDecorated.prototype, 'qty');
    expect(needsValidation(new LateDecorated())).toBe(true);
  });

  it('notices constraints added to a base class after a first lookup of the subclass', () => {
    class Base {
      id!: string;
    }
    class Derived extends Base {}
    expect(needsValidation(new Derived())).toBe(false);
    IsString()(Base.prototype, 'id');
    expect(needsValidation(new Derived())).toBe(true);
  });
});

describe('handler decorators of every kind', () => {
  it('register query and event handlers', () => {
    @QueryHandler(GetOrder)
    class H1 {
      handle(): { id: string } {
        return { id: '1' };
      }
    }
    @EventHandler(OrderCreated)
    class H2 {
      handle(): void {}
    }
    expect(toHandlerDefinition(new H1()).kind).toBe('query');
    expect(toHandlerDefinition(new H2()).kind).toBe('event');
  });
});
