/**
 * The wait both drivers' admins do after creating topics: until every partition has a leader.
 *
 * @packageDocumentation
 */

/** Longest wait for the leaders of newly created topics, in ms. */
export const TOPIC_LEADER_WAIT_MS = 30_000;

/**
 * Resolves once `allLed()` says every partition of `topics` has a leader. Metadata errors while the
 * new topics propagate (unknown topic, leader not available) are retried with backoff (50 ms doubling
 * up to 1 s) for up to {@link TOPIC_LEADER_WAIT_MS}; then the last error is thrown, or
 * `notLed(message)` when the metadata answered without every leader.
 *
 * @internal
 */
export async function waitForTopicLeaders(
  topics: readonly string[],
  allLed: () => Promise<boolean>,
  notLed: (message: string) => Error,
): Promise<void> {
  const deadline = Date.now() + TOPIC_LEADER_WAIT_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      if (await allLed()) return;
      if (Date.now() >= deadline)
        throw notLed(`Topics ${topics.join(', ')} have no leader for every partition yet`);
    } catch (error) {
      if (Date.now() >= deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * 2 ** (attempt - 1))));
  }
}
