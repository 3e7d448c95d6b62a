/**
 * kafkajs' admin answers an offsets request with `NOT_LEADER_OR_FOLLOWER` / `LEADER_NOT_AVAILABLE` while
 * a partition's leadership moves (right after a topic is created, or a broker restarted), and its own
 * retries reuse the stale metadata. This retries such a request after refreshing the topic's metadata,
 * with a short backoff, for at most `budgetMs`; any other error (and the last leader error) is thrown.
 */
const LEADER_ERRORS: ReadonlySet<string> = new Set([
  'NOT_LEADER_FOR_PARTITION',
  'NOT_LEADER_OR_FOLLOWER',
  'LEADER_NOT_AVAILABLE',
]);

/** Default time a leader-moving request is retried for. */
export const LEADER_RETRY_BUDGET_MS = 10_000;

function isLeaderError(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (typeof current === 'object' && current !== null && !seen.has(current)) {
    seen.add(current);
    const type = (current as { type?: unknown }).type;
    if (typeof type === 'string' && LEADER_ERRORS.has(type)) return true;
    current =
      (current as { originalError?: unknown; cause?: unknown }).originalError ??
      (current as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Runs `request`; on a leader error refreshes metadata (`refresh`) and runs it again, with a backoff
 * from 50 ms doubling up to 1 s, until it succeeds or `budgetMs` has passed.
 */
export async function withLeaderRetry<T>(
  request: () => Promise<T>,
  refresh: () => Promise<unknown>,
  budgetMs: number = LEADER_RETRY_BUDGET_MS,
): Promise<T> {
  const deadline = Date.now() + budgetMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await request();
    } catch (error) {
      if (!isLeaderError(error) || Date.now() >= deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * 2 ** (attempt - 1))));
    await refresh().catch(() => undefined);
  }
}
