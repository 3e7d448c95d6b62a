import { ConfigurationError } from '../errors/configuration-error.js';

/**
 * The error of starting an endpoint whose `with*` made a configured copy: `with*` returns a new
 * endpoint and leaves the original unchanged, so `c.withX(1); await c.run()` would otherwise run
 * without `withX`. The copy is the one to start.
 *
 * @param kind - `event-driven consumer` or `polling consumer`.
 * @param name - The endpoint name.
 * @param call - What was called on the original (`run()`, `receive()`).
 * @internal
 */
export function copiedEndpointError(kind: string, name: string, call: string): ConfigurationError {
  return new ConfigurationError(
    [
      `${call} was called on ${kind} "${name}" after a with* call on it: with* returns a new, configured ` +
        `${kind} and leaves this one unchanged; call ${call} on the one with* returned ` +
        '(e.g. `const c = gomes.eventDrivenConsumer(name).withAmountOfProcessors(4); await c.run()`)',
    ],
    `${kind} "${name}"`,
  );
}
