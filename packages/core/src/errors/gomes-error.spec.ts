import { ErrorCodes } from './error-codes.js';
import { ConfigurationError } from './configuration-error.js';
import { GomesError, NonRetriableError, isGomesError, isRetriable, toError } from './gomes-error.js';
import { ValidationError } from './validation-error.js';

describe('GomesError family', () => {
  it('carries a stable code, the default retriability of its code, a cause and details', () => {
    const cause = new Error('socket closed');
    const e = new GomesError('PUBLISH_FAILED', 'publish failed', { cause, details: { topic: 't' } });
    expect(e.code).toBe('GOMES_PUBLISH_FAILED');
    expect(e.retriable).toBe(true);
    expect(e.cause).toBe(cause);
    expect(e.details).toEqual({ topic: 't' });
    expect(e).toBeInstanceOf(Error);
    expect(new GomesError('VALIDATION', 'x').retriable).toBe(false);
    expect(new GomesError('PUBLISH_FAILED', 'x', { retriable: false }).retriable).toBe(false);
  });

  it('has unique codes that all start with GOMES_', () => {
    const codes = Object.values(ErrorCodes).map((c) => c.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) expect(code).toMatch(/^GOMES_[A-Z_]+$/);
  });

  it('brand-checks without instanceof', () => {
    const e = new GomesError('NOT_FOUND', 'x');
    expect(isGomesError(e)).toBe(true);
    expect(isGomesError(new Error('x'))).toBe(false);
    expect(isGomesError({ code: 'GOMES_NOT_FOUND' })).toBe(false);
    expect(
      isGomesError(
        Object.assign(Object.create(Error.prototype) as object, { [Symbol.for('@gomes/core:error')]: true }),
      ),
    ).toBe(true);
  });

  it('decides retriability: plain errors retry, non-retriable ones do not', () => {
    expect(isRetriable(new Error('boom'))).toBe(true);
    expect(isRetriable(new NonRetriableError('gone'))).toBe(false);
    expect(isRetriable(Object.assign(new Error('x'), { retriable: false }))).toBe(false);
    expect(isRetriable('string thrown')).toBe(true);
  });

  it('ConfigurationError lists every problem', () => {
    const e = new ConfigurationError(['a is wrong', 'b is missing']);
    expect(e.problems).toEqual(['a is wrong', 'b is missing']);
    expect(e.message).toContain('2 problems');
    expect(e.message).toContain('  - a is wrong');
    expect(e.message).toContain('  - b is missing');
    expect(e.code).toBe('GOMES_CONFIGURATION');
    expect(() => ConfigurationError.throwIfAny([])).not.toThrow();
    expect(() => ConfigurationError.throwIfAny(['x'])).toThrow(ConfigurationError);
  });

  it('ValidationError is non-retriable and names every constraint', () => {
    const e = new ValidationError('createOrder', [
      { property: 'qty', constraints: { min: 'qty must not be less than 1' } },
      { property: 'sku', constraints: { isString: 'sku must be a string' } },
    ]);
    expect(e.retriable).toBe(false);
    expect(e.message).toBe(
      'Invalid createOrder: qty: qty must not be less than 1; sku: sku must be a string',
    );
  });
});

describe('toError', () => {
  it('keeps Errors and describes strings and JSON values as before', () => {
    const e = new TypeError('x');
    expect(toError(e)).toBe(e);
    expect(toError('boom').message).toBe('boom');
    expect(toError({ a: 1 }).message).toBe('{"a":1}');
    expect(toError(42).message).toBe('42');
  });

  it('never throws: BigInt, circular objects and throwing toJSON fall back to String(value)', () => {
    expect(toError(10n).message).toBe('10');
    const circular: Record<string, unknown> = { name: 'loop' };
    circular['self'] = circular;
    expect(toError(circular).message).toBe('[object Object]');
    const hostile = {
      toJSON(): never {
        throw new Error('no json');
      },
      toString(): never {
        throw new Error('no string');
      },
    };
    expect(toError(hostile).message).toBe('[object Object]');
    expect(toError(Object.create(null)).message).toBe('{}');
  });

  it('never returns an empty message', () => {
    for (const value of [undefined, null, '', Symbol('')]) {
      expect(toError(value).message).not.toBe('');
    }
    expect(toError(undefined).message).toBe('Unknown error');
    expect(toError(null).message).toBe('Unknown error');
  });
});
