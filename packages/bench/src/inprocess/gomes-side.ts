/**
 * The gomes side of the in-process benchmark: a command, a query and an event (decorated, no
 * class-validator constraints), their handlers, and a started `createGomes()` instance with the
 * defaults users get (validation on, tracing off, no logger).
 */
import 'reflect-metadata';
import {
  Action,
  Command,
  createGomes,
  defineCommandHandler,
  defineEventHandler,
  defineQueryHandler,
  Event,
  Query,
  type Gomes,
} from '@gomes/core';

/** The benchmark command: the handler returns the order id. */
@Command('benchCreateOrder')
export class BenchCreateOrder extends Action<string> {
  constructor(
    readonly orderId: string,
    readonly customerId: string,
  ) {
    super();
  }
}

/** The benchmark query: the handler returns the order's customer id. */
@Query('benchGetOrder')
export class BenchGetOrder extends Action<string> {
  constructor(readonly orderId: string) {
    super();
  }
}

/** The benchmark event: two handlers. */
@Event('benchOrderCreated')
export class BenchOrderCreated {
  constructor(readonly orderId: string) {}
}

/** Counts handler runs (both sides have the same counters, read after each run to check the work was done). */
export interface HandlerRuns {
  events: number;
}

/** A started gomes instance with one command handler, one query handler and two event handlers. */
export async function startGomes(runs: HandlerRuns): Promise<Gomes> {
  const gomes = createGomes({ name: 'bench-in-process' });
  gomes.addActionHandler(defineCommandHandler(BenchCreateOrder, async (command) => command.orderId));
  gomes.addActionHandler(defineQueryHandler(BenchGetOrder, async (query) => query.orderId));
  gomes.addActionHandler(
    defineEventHandler(BenchOrderCreated, async () => {
      runs.events++;
    }),
  );
  gomes.addActionHandler(
    defineEventHandler(BenchOrderCreated, async () => {
      runs.events++;
    }),
  );
  await gomes.start();
  return gomes;
}
