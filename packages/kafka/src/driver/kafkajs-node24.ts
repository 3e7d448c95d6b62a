// The ambient declaration of kafkajs' internal module must also load when only tests compile.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="./kafkajs-snappy.d.ts" />
/**
 * kafkajs 2.2.4 (unmaintained) on Node 24: its request queue schedules a timer with a negative delay
 * whenever nothing is throttled (`RequestQueue.scheduleCheckPendingRequests`: `throttledUntil - now`
 * with `throttledUntil` -1), which Node.js has always run after 1 ms and Node 24 reports with a
 * `TimeoutNegativeWarning` on stderr, once per process. Same behaviour, delay clamped to 1 ms: the
 * method is replaced once, with kafkajs' code and the clamp (kafkajs is pinned to 2.2.4; the example
 * tests on Node 24 fail on any stderr output). A function, not an import side effect: the package
 * is marked side-effect free for bundlers.
 *
 * @packageDocumentation
 */
import RequestQueue from 'kafkajs/src/network/requestQueue/index.js';

/** kafkajs' CHECK_PENDING_REQUESTS_INTERVAL. */
const CHECK_PENDING_REQUESTS_INTERVAL = 10;

let patched = false;

/** Replaces kafkajs' `scheduleCheckPendingRequests` once (called by the kafkajs driver module). @internal */
export function clampKafkajsTimers(): void {
  if (patched) return;
  patched = true;
  RequestQueue.prototype.scheduleCheckPendingRequests = scheduleCheckPendingRequests;
}

function scheduleCheckPendingRequests(this: (typeof RequestQueue)['prototype']): void {
  let scheduleAt = this.throttledUntil - Date.now();
  if (!this.throttleCheckTimeoutId) {
    if (this.pending.length > 0) scheduleAt = scheduleAt > 0 ? scheduleAt : CHECK_PENDING_REQUESTS_INTERVAL;
    this.throttleCheckTimeoutId = setTimeout(
      () => {
        this.throttleCheckTimeoutId = null;
        this.checkPendingRequests();
      },
      Math.max(1, scheduleAt),
    );
  }
}
