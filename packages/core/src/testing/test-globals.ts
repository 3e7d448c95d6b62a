import { GomesError } from '../errors/gomes-error.js';

/** A test body. @internal */
export type TestFn = () => Promise<void>;

/** The jest-compatible globals the contract suites need. @internal */
export interface TestGlobals {
  describe: (name: string, fn: () => void) => void;
  it: (name: string, fn: TestFn, timeout?: number) => void;
  beforeAll: (fn: TestFn, timeout?: number) => void;
  afterAll: (fn: TestFn, timeout?: number) => void;
  afterEach: (fn: TestFn, timeout?: number) => void;
}

/**
 * The runner's globals `needed` by the suite `suite`.
 *
 * @throws GomesError ILLEGAL_STATE when one of them is missing (not run inside jest or a runner like it).
 * @internal
 */
export function testGlobals<K extends keyof TestGlobals>(
  suite: string,
  needed: readonly K[],
): Pick<TestGlobals, K> {
  const g = globalThis as unknown as Partial<TestGlobals>;
  if (needed.some((name) => !g[name])) {
    throw new GomesError(
      'ILLEGAL_STATE',
      `${suite} must run inside jest (or a runner with jest-style globals)`,
    );
  }
  return g as Pick<TestGlobals, K>;
}
