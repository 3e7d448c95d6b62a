import 'reflect-metadata';
import { Type } from 'class-transformer';
import {
  Allow,
  IsArray,
  IsDate,
  IsDefined,
  IsInt,
  IsOptional,
  IsString,
  Min,
  ValidateNested,
} from 'class-validator';
import { ValidationError } from '../errors/validation-error.js';
import { Action } from './action.js';
import { Command } from './action-decorators.js';
import { ActionRegistry } from './action-registry.js';
import { hasTransformMetadata, nestedTypeProblems } from './action-transformer.js';
import {
  DEFAULT_ACTION_VALIDATION_OPTIONS,
  resolveActionValidationOptions,
} from './action-validation-options.js';
import { checkAction, needsValidation, toActionInstance, validateAction } from './action-validation.js';
import { defineCommandHandler } from './handler-definition.js';

class RequestMeta {
  @IsString() requestedBy!: string;
  @IsOptional() @IsString() channel?: string;
  describe(): string {
    return `by ${this.requestedBy}`;
  }
}

class OrderLine {
  @IsString() sku!: string;
  @IsInt() @Min(1) quantity!: number;
}

class Address {
  @IsString() city!: string;
}

@Command('nested.placeOrder')
class PlaceOrder extends Action<string> {
  @IsString() customerId!: string;
  @IsDefined() @ValidateNested() @Type(() => RequestMeta) meta!: RequestMeta;
  @IsArray() @ValidateNested({ each: true }) @Type(() => OrderLine) lines!: OrderLine[];
  @IsOptional() @ValidateNested() @Type(() => Address) shipTo?: Address;
}

/** A payload as it arrives: JSON, parsed. */
const received = (payload: unknown): unknown => JSON.parse(JSON.stringify(payload)) as unknown;

const valid = {
  customerId: 'c-1',
  meta: { requestedBy: 'ana' },
  lines: [
    { sku: 'book', quantity: 2 },
    { sku: 'pen', quantity: 1 },
  ],
};

/** Receive: turn the payload into the class, then validate it; the violations of a rejection. */
async function receive(payload: unknown, options = DEFAULT_ACTION_VALIDATION_OPTIONS): Promise<PlaceOrder> {
  const action = toActionInstance(PlaceOrder, received(payload), 'nested.placeOrder');
  await checkAction(action, 'nested.placeOrder', options);
  return action;
}

async function violations(work: Promise<unknown>): Promise<Record<string, string[]>> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ValidationError);
  expect((error as ValidationError).retriable).toBe(false);
  expect((error as ValidationError).code).toBe('GOMES_VALIDATION');
  return Object.fromEntries(
    (error as ValidationError).violations.map((v) => [v.property, Object.keys(v.constraints)]),
  );
}

describe('received payloads become the declared classes, nested ones included', () => {
  it('restores the action, its nested object and each element of a nested array', async () => {
    const action = await receive({ ...valid, shipTo: { city: 'Porto' } });
    expect(action).toBeInstanceOf(PlaceOrder);
    expect(action.meta).toBeInstanceOf(RequestMeta);
    expect(action.meta.describe()).toBe('by ana');
    expect(action.lines).toHaveLength(2);
    for (const line of action.lines) expect(line).toBeInstanceOf(OrderLine);
    expect(action.lines.map((l) => [l.sku, l.quantity])).toEqual([
      ['book', 2],
      ['pen', 1],
    ]);
    expect(action.shipTo).toBeInstanceOf(Address);
    expect(action.shipTo?.city).toBe('Porto');
  });

  it('leaves an optional nested object out when it is absent or null', async () => {
    expect((await receive(valid)).shipTo).toBeUndefined();
    expect((await receive({ ...valid, shipTo: null })).shipTo).toBeNull();
  });

  it('rejects invalid nested values with dotted paths, non-retriable', async () => {
    expect(await violations(receive({ ...valid, meta: { requestedBy: 42 } }))).toEqual({
      'meta.requestedBy': ['isString'],
    });
    expect(
      await violations(
        receive({
          ...valid,
          lines: [
            { sku: 'a', quantity: 1 },
            { sku: 7, quantity: 0 },
          ],
        }),
      ),
    ).toEqual({ 'lines.1.sku': ['isString'], 'lines.1.quantity': ['min'] });
    expect(await violations(receive({ ...valid, shipTo: { city: false } }))).toEqual({
      'shipTo.city': ['isString'],
    });
  });

  it('rejects a nested value that is not an object, and a missing required one', async () => {
    expect(await violations(receive({ ...valid, meta: 'ana' }))).toEqual({ meta: ['nestedValidation'] });
    expect(await violations(receive({ ...valid, lines: ['book'] }))).toEqual({
      'lines.0': ['nestedValidation'],
    });
    const { meta: _meta, ...withoutMeta } = valid;
    expect(await violations(receive(withoutMeta))).toEqual({ meta: ['isDefined'] });
  });

  it('rejects every violation of one payload at once', async () => {
    const error = await receive({ customerId: 1, meta: { requestedBy: 42 }, lines: [{ sku: 'a' }] }).catch(
      (e: unknown) => e,
    );
    expect((error as ValidationError).message).toBe(
      'Invalid nested.placeOrder: customerId: customerId must be a string; ' +
        'meta.requestedBy: requestedBy must be a string; ' +
        'lines.0.quantity: quantity must not be less than 1; lines.0.quantity: quantity must be an integer number',
    );
  });

  it('does not let "__proto__" or "constructor" keys bypass nested validation', async () => {
    const hostile = JSON.parse(
      '{"constructor": {"x": 1}, "customerId": "c", "lines": [],' +
        ' "meta": {"__proto__": {"requestedBy": "ana"}, "constructor": "Object"}}',
    ) as unknown;
    const action = toActionInstance(PlaceOrder, hostile, 'nested.placeOrder');
    expect(Object.getPrototypeOf(action)).toBe(PlaceOrder.prototype);
    expect(Object.getPrototypeOf(action.meta)).toBe(RequestMeta.prototype);
    expect(
      await violations(checkAction(action, 'nested.placeOrder', DEFAULT_ACTION_VALIDATION_OPTIONS)),
    ).toEqual({ 'meta.requestedBy': ['isString'] });
  });

  it('restores a Date declared with @Type(() => Date) from its JSON string', async () => {
    @Command('nested.dated')
    class Dated {
      @IsDate() @Type(() => Date) at!: Date;
    }
    const action = toActionInstance(Dated, received({ at: new Date('2024-05-01T10:00:00Z') }));
    expect(action.at).toBeInstanceOf(Date);
    expect(action.at.toISOString()).toBe('2024-05-01T10:00:00.000Z');
    await expect(
      checkAction(action, 'nested.dated', DEFAULT_ACTION_VALIDATION_OPTIONS),
    ).resolves.toBeUndefined();
    expect(
      await violations(
        checkAction(
          toActionInstance(Dated, { at: 'not a date' }),
          'nested.dated',
          DEFAULT_ACTION_VALIDATION_OPTIONS,
        ),
      ),
    ).toEqual({ at: ['isDate'] });
  });

  it('turns a failing nested constructor into a non-retriable ValidationError', () => {
    class Fragile {
      constructor() {
        throw new Error('no default constructor');
      }
    }
    @Command('nested.fragile')
    class UsesFragile {
      @ValidateNested() @Type(() => Fragile) part!: Fragile;
    }
    let error: unknown;
    try {
      toActionInstance(UsesFragile, { part: {} }, 'nested.fragile');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).retriable).toBe(false);
    expect((error as ValidationError).message).toBe(
      'Invalid nested.fragile: (payload): could not be turned into UsesFragile: no default constructor',
    );
  });
});

describe('validateAction (send) validates nested literals as their declared class', () => {
  it('rejects an invalid nested literal and an invalid element literal', async () => {
    const action = Object.assign(new PlaceOrder(), { ...valid, meta: { requestedBy: 42 } });
    expect(await violations(validateAction(action, 'nested.placeOrder'))).toEqual({
      'meta.requestedBy': ['isString'],
    });
    const lines = Object.assign(new PlaceOrder(), { ...valid, lines: [{ sku: 'a', quantity: -1 }] });
    expect(await violations(validateAction(lines, 'nested.placeOrder'))).toEqual({
      'lines.0.quantity': ['min'],
    });
  });

  it('returns a restored copy to send and leaves the action untouched', async () => {
    const meta = { requestedBy: 'ana' };
    const action = Object.assign(new PlaceOrder(), { ...valid, meta });
    const sent = await validateAction(action, 'nested.placeOrder');
    expect(sent).not.toBe(action);
    expect(sent).toBeInstanceOf(PlaceOrder);
    expect(sent.meta).toBeInstanceOf(RequestMeta);
    expect(sent.lines[0]).toBeInstanceOf(OrderLine);
    expect(action.meta).toBe(meta);
    expect(Object.getPrototypeOf(action.meta)).toBe(Object.prototype);
    expect(JSON.parse(JSON.stringify(sent))).toEqual(valid);
  });

  it('validates classes without class-transformer metadata in place (the fast path)', async () => {
    @Command('nested.flat')
    class Flat {
      @IsString() id!: string;
    }
    const action = Object.assign(new Flat(), { id: 'x' });
    expect(hasTransformMetadata(Flat)).toBe(false);
    expect(await validateAction(action, 'nested.flat')).toBe(action);
    expect(toActionInstance(Flat, action)).toBe(action);
  });
});

describe('whitelist and forbidNonWhitelisted', () => {
  const whitelist = resolveActionValidationOptions({ whitelist: true }).options;
  const forbid = resolveActionValidationOptions({ whitelist: true, forbidNonWhitelisted: true }).options;

  it('whitelist strips undeclared properties at every level on receive', async () => {
    const action = await receive(
      {
        ...valid,
        isAdmin: true,
        meta: { requestedBy: 'ana', token: 's3cret' },
        lines: [{ sku: 'book', quantity: 2, price: 0 }],
      },
      whitelist,
    );
    expect(JSON.parse(JSON.stringify(action))).toEqual({
      customerId: 'c-1',
      meta: { requestedBy: 'ana' },
      lines: [{ sku: 'book', quantity: 2 }],
    });
  });

  it('whitelist keeps properties marked @Allow()', async () => {
    @Command('nested.allowed')
    class WithNote {
      @IsString() id!: string;
      @Allow() note?: unknown;
    }
    const action = toActionInstance(WithNote, { id: 'a', note: { free: 'form' }, extra: 1 });
    await checkAction(action, 'nested.allowed', whitelist);
    expect({ ...action }).toEqual({ id: 'a', note: { free: 'form' } });
  });

  it('on send, whitelist strips a copy: what is sent has only declared properties, the action is untouched', async () => {
    const action = Object.assign(new PlaceOrder(), {
      ...valid,
      isAdmin: true,
      meta: { requestedBy: 'ana', token: 's3cret' },
    });
    const sent = await validateAction(action, 'nested.placeOrder', whitelist);
    expect(JSON.parse(JSON.stringify(sent))).toEqual(valid);
    expect((action as unknown as { isAdmin: boolean }).isAdmin).toBe(true);
    expect(action.meta).toEqual({ requestedBy: 'ana', token: 's3cret' });
  });

  it('forbidNonWhitelisted rejects undeclared properties, nested ones included', async () => {
    expect(
      await violations(
        receive({ ...valid, isAdmin: true, meta: { requestedBy: 'ana', token: 'x' } }, forbid),
      ),
    ).toEqual({ isAdmin: ['whitelistValidation'], 'meta.token': ['whitelistValidation'] });
    const action = Object.assign(new PlaceOrder(), {
      ...valid,
      lines: [{ sku: 'a', quantity: 1, price: 3 }],
    });
    const error = await validateAction(action, 'nested.placeOrder', forbid).catch((e: unknown) => e);
    expect((error as ValidationError).message).toBe(
      'Invalid nested.placeOrder: lines.0.price: property price should not exist',
    );
  });

  it('are checked once, listing every problem', () => {
    expect(resolveActionValidationOptions({ forbidNonWhitelisted: true }).problems).toEqual([
      'validation.forbidNonWhitelisted needs validation.whitelist: true (it has no effect alone)',
    ]);
    expect(
      resolveActionValidationOptions({ whitelist: 'yes', strip: true } as unknown as { whitelist: boolean })
        .problems,
    ).toEqual(['validation: unknown option "strip"', 'validation.whitelist must be a boolean (got yes)']);
    expect(resolveActionValidationOptions(undefined).options).toEqual(DEFAULT_ACTION_VALIDATION_OPTIONS);
  });
});

describe('class-transformer metadata lookup', () => {
  it('is inherited and notices @Type added after a first lookup found none', () => {
    class Base {
      meta?: RequestMeta;
    }
    class Derived extends Base {}
    expect(hasTransformMetadata(Derived)).toBe(false);
    expect(toActionInstance(Derived, { meta: { requestedBy: 'a' } }).meta).not.toBeInstanceOf(RequestMeta);
    Type(() => RequestMeta)(Base.prototype, 'meta');
    expect(hasTransformMetadata(Derived)).toBe(true);
    expect(toActionInstance(Derived, { meta: { requestedBy: 'a' } }).meta).toBeInstanceOf(RequestMeta);
  });

  it('restores an in-process instance whose nested value is a literal (a copy; the instance is untouched)', () => {
    const action = Object.assign(new PlaceOrder(), valid);
    const restored = toActionInstance(PlaceOrder, action);
    expect(restored).not.toBe(action);
    expect(restored.meta).toBeInstanceOf(RequestMeta);
    expect(action.meta).not.toBeInstanceOf(RequestMeta);
  });

  it('needsValidation still reports classes without constraints as skippable', () => {
    class Untyped {
      @Type(() => RequestMeta) meta?: RequestMeta;
    }
    expect(needsValidation(toActionInstance(Untyped, { meta: {} }))).toBe(false);
  });
});

describe('@ValidateNested() without @Type()', () => {
  class Item {
    @IsString() sku!: string;
  }
  class Inner {
    @ValidateNested() item!: Item;
  }
  @Command('nested.untyped')
  class Untyped {
    @ValidateNested() meta!: RequestMeta;
    @ValidateNested({ each: true }) items!: Item[];
    @ValidateNested() @Type(() => Inner) inner!: Inner;
  }

  it('is a configuration problem naming the property, the class to use and where to import Type', () => {
    expect(nestedTypeProblems(Untyped)).toEqual([
      "Untyped.meta has @ValidateNested() but no @Type(): received values stay plain objects and are not validated; add @Type(() => RequestMeta) (import { Type } from '@gomes/core')",
      "Untyped.items has @ValidateNested() but no @Type(): received values stay plain objects and are not validated; add @Type(() => TheNestedClass) (import { Type } from '@gomes/core')",
      "Untyped.inner.item has @ValidateNested() but no @Type(): received values stay plain objects and are not validated; add @Type(() => Item) (import { Type } from '@gomes/core')",
    ]);
    expect(nestedTypeProblems(PlaceOrder)).toEqual([]);
  });

  it('is recorded when its handler is registered', () => {
    const registry = new ActionRegistry();
    registry.register(defineCommandHandler(Untyped, () => undefined));
    expect(registry.problems()).toHaveLength(3);
    expect(registry.problems()[0]).toContain('Untyped.meta has @ValidateNested() but no @Type()');
  });
});
