/**
 * Whether `promise` settled (resolved or rejected) within `ms`; `Infinity` waits for it without a
 * timer. The timer is cleared either way.
 *
 * @internal
 */
export async function withinBudget(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const settled = promise.then(
    () => true,
    () => true,
  );
  if (ms === Infinity) return settled;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([settled, expired]);
  } finally {
    clearTimeout(timer);
  }
}
