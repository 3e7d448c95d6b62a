import type { Logger } from '../logging/logger.js';
import type { Message } from '../message/message.js';
import type { GomesTelemetry } from '../observability/gomes-telemetry.js';
import type { ChannelResolver } from '../pipeline/processing-context.js';
import type { GomesRuntime } from './gomes-runtime.js';
import type { GomesState } from './gomes-state.js';

/** What the parts of a gomes instance (buses, consumers) share of it. @internal */
export interface GomesInstanceContext {
  readonly channels: ChannelResolver;
  readonly telemetry: GomesTelemetry;
  readonly logger: Logger;
  readonly state: () => GomesState;
  /** The started runtime; throws `GOMES_ILLEGAL_STATE` before `start()`. */
  readonly startedRuntime: () => GomesRuntime;
  /** Tells the `onUnhandledError` listeners. */
  readonly onUnhandledError: (error: Error, message?: Message) => void;
}
