import { resolveOptions } from './resolve-options.js';

interface Opts {
  size: number;
  name: string | undefined;
}
const DEFAULTS: Readonly<Opts> = Object.freeze({ size: 10, name: undefined });
const positive = (o: Opts): string[] => (o.size > 0 ? [] : [`size must be > 0 (got ${o.size})`]);
const unknown = (k: string): string => `unknown option "${k}"`;

describe('resolveOptions', () => {
  it('applies the defaults under the defined input values (undefined keeps the default)', () => {
    expect(resolveOptions(DEFAULTS, undefined, positive, unknown)).toEqual({
      options: DEFAULTS,
      problems: [],
    });
    expect(resolveOptions(DEFAULTS, { size: undefined, name: 'a' }, positive, unknown)).toEqual({
      options: { size: 10, name: 'a' },
      problems: [],
    });
  });

  it('lists every problem at once: unknown keys, then the validator', () => {
    const input = { size: 0, colour: 'red', shape: 1 } as Partial<Opts>;
    expect(resolveOptions(DEFAULTS, input, positive, unknown).problems).toEqual([
      'unknown option "colour"',
      'unknown option "shape"',
      'size must be > 0 (got 0)',
    ]);
  });

  it('reports input that is not an object, with the defaults', () => {
    expect(resolveOptions(DEFAULTS, 5 as never, positive, unknown)).toEqual({
      options: DEFAULTS,
      problems: ['options must be an object (got 5)'],
    });
  });
});
