import { ConfigurationError } from '../errors/configuration-error.js';
import type { ActionClass } from './action.js';
import { BatchCollector, type BatchContext, type BatchEventHandlerFn } from './batch-collector.js';
import { define } from './define-handler.js';
import type { HandlerDefinition } from './handler-definition.js';

export type { BatchContext, BatchEventHandlerFn, BatchRecordOutcome } from './batch-collector.js';

/**
 * How a batch handler collects its events.
 *
 * @public
 */
export interface BatchHandlerOptions {
  /** Most events handed to one call. */
  readonly maxSize: number;
  /** How long the first event of a batch waits for more before the batch runs, in ms. */
  readonly maxWaitMs: number;
}

/** Defaults of {@link BatchHandlerOptions}. @public */
export const DEFAULT_BATCH_HANDLER_OPTIONS: BatchHandlerOptions = Object.freeze({
  maxSize: 100,
  maxWaitMs: 50,
});

/**
 * Checks batch options; every problem, with the fix.
 *
 * @internal
 */
export function batchHandlerProblems(options: BatchHandlerOptions): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(options.maxSize) || options.maxSize < 1) {
    problems.push(`maxSize must be an integer >= 1 (got ${String(options.maxSize)})`);
  }
  if (!Number.isInteger(options.maxWaitMs) || options.maxWaitMs < 0 || options.maxWaitMs > 2_147_483_647) {
    problems.push(`maxWaitMs must be an integer between 0 and 2147483647 (got ${String(options.maxWaitMs)})`);
  }
  return problems;
}

/**
 * Defines an event handler that receives events in batches, without decorators. Register it with
 * `gomes.addActionHandler(...)` like any handler; the consumer running the event's channel hands
 * each delivered event to a shared batch which runs once it holds `maxSize` events or `maxWaitMs`
 * after its first event. Each event is settled from its own outcome (`'done'`, `'retry'`,
 * `'dead-letter'`), so one bad event neither fails nor redelivers the good ones.
 *
 * Order per key: a consumer runs one event per key at a time, so a batch holds at most one event
 * per partition key; the next event of that key joins a later batch once this one is settled.
 * Waiting for a batch holds no consumer processor, so a batch can be larger than
 * `amountOfProcessors` (records buffered per partition bound it).
 *
 * @example
 * ```ts
 * gomes.addActionHandler(
 *   defineBatchEventHandler(OrderPlaced, async (events) => events.map((e) => (e.valid ? 'done' : 'dead-letter')), {
 *     maxSize: 200,
 *     maxWaitMs: 20,
 *   }),
 * );
 * ```
 * @throws ConfigurationError listing every invalid option.
 * @public
 */
export function defineBatchEventHandler<A extends object>(
  event: ActionClass<A>,
  handle: BatchEventHandlerFn<A>,
  options: Partial<BatchHandlerOptions> = {},
  handlerName?: string,
): HandlerDefinition<A, void> {
  const resolved: BatchHandlerOptions = { ...DEFAULT_BATCH_HANDLER_OPTIONS, ...options };
  const name = handlerName ?? (handle.name || `${event.name}BatchHandler`);
  ConfigurationError.throwIfAny(batchHandlerProblems(resolved), `batch handler "${name}"`);
  const collector = new BatchCollector<A>(name, resolved.maxSize, resolved.maxWaitMs, handle);
  // Not `async`: the collector's promise is handed back, without an extra promise and hop per event.
  // eslint-disable-next-line @typescript-eslint/promise-function-async
  return define('event', event, (e: A, ctx) => collector.add(e, ctx), name);
}

/**
 * A class-based batch handler: the shape decorated with {@link BatchEventHandler}.
 *
 * @public
 */
export interface BatchActionHandler<A extends object = object> {
  /** Handles a batch; returns nothing (all done) or one outcome per event. */
  handle(events: readonly A[], context: BatchContext): ReturnType<BatchEventHandlerFn<A>>;
}

interface BatchHandlerDescriptor {
  readonly event: ActionClass;
  readonly options: Partial<BatchHandlerOptions>;
}

const batchDescriptors = new WeakMap<object, BatchHandlerDescriptor>();

/**
 * Marks a class as a batch handler of an event: its `handle(events, ctx)` gets batches (see
 * {@link defineBatchEventHandler}). It only records metadata: register an instance with
 * `gomes.addActionHandler(new OrderBatchHandler(deps))`.
 *
 * @example
 * ```ts
 * @BatchEventHandler(OrderPlaced, { maxSize: 100, maxWaitMs: 20 })
 * class OrderBatchHandler { async handle(events: readonly OrderPlaced[], ctx: BatchContext) { await db.insertMany(events); } }
 * ```
 * @public
 */
export function BatchEventHandler(
  event: ActionClass,
  options: Partial<BatchHandlerOptions> = {},
): ClassDecorator {
  return (target) => {
    batchDescriptors.set(target, { event, options });
  };
}

/** The metadata `@BatchEventHandler` recorded on a class. @internal */
export function getBatchHandlerDescriptor(target: object): BatchHandlerDescriptor | undefined {
  return batchDescriptors.get(target);
}
