// The integration project's per-test timeout (jest.integration.setup.js) is the one jest really
// applies: jest ignores `testTimeout` inside a project's config (it is a global option), so these
// tests would otherwise run on jest's default of 5 s and fail on a slow broker. This reads the timeout
// jest-circus gives every test and hook that sets none of its own.
const INTEGRATION_TEST_TIMEOUT_MS = 120_000;

/** jest-circus's run state (kept on the global under a symbol described as 'JEST_STATE_SYMBOL'). */
function circusState(): { testTimeout: number } {
  const symbol = Object.getOwnPropertySymbols(globalThis).find((s) => s.description === 'JEST_STATE_SYMBOL');
  if (symbol === undefined) throw new Error('jest-circus state not found on the global object');
  return (globalThis as unknown as Record<symbol, { testTimeout: number }>)[symbol] as {
    testTimeout: number;
  };
}

describe('the integration project', () => {
  it('runs every test without a timeout of its own on the integration timeout, not jest’s 5 s', () => {
    expect(circusState().testTimeout).toBe(INTEGRATION_TEST_TIMEOUT_MS);
  });
});
