/**
 * The timed loops of each scenario and side: `ops` awaited calls in a row, the next one started when
 * the previous one resolved (what a caller awaiting each send sees). Each returns the seconds the
 * calls took, after checking that the handlers did their work.
 */
import type { Gomes } from '@gomes/core';
import { BenchCreateOrder, BenchGetOrder, BenchOrderCreated, type HandlerRuns } from './gomes-side.js';
import { eventSink, NestCreateOrder, NestGetOrder, NestOrderCreated, type NestSide } from './nest-side.js';

/** A measured side of a scenario: `ops` awaited calls; resolves to the seconds they took. */
export type Run = (ops: number) => Promise<number>;

/** One scenario: the gomes call and its anchor. */
export interface Scenario {
  readonly id: string;
  readonly title: string;
  readonly gomes: Run;
  readonly anchor: Run;
  /** What the anchor is, for the table. */
  readonly anchorName: string;
}

const ids = Array.from({ length: 1024 }, (_, i) => `order-${i}`);

function secondsSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function check(what: string, actual: unknown, expected: unknown): void {
  if (actual !== expected) throw new Error(`${what}: got ${String(actual)}, expected ${String(expected)}`);
}

/** The three scenarios over one gomes instance and one Nest application context. */
export function scenarios(gomes: Gomes, runs: HandlerRuns, nest: NestSide): Scenario[] {
  const commandBus = gomes.commandBus();
  const queryBus = gomes.queryBus();
  const eventBus = gomes.eventBus();
  return [
    {
      id: 'command',
      title: 'Command send (awaited, handler returns the id)',
      anchorName: '@nestjs/cqrs CommandBus.execute',
      gomes: async (ops) => {
        let last = '';
        const start = process.hrtime.bigint();
        for (let i = 0; i < ops; i++)
          last = await commandBus.send(new BenchCreateOrder(ids[i & 1023]!, 'c-1'));
        const seconds = secondsSince(start);
        check('gomes command result', last, ids[(ops - 1) & 1023]);
        return seconds;
      },
      anchor: async (ops) => {
        let last = '';
        const start = process.hrtime.bigint();
        for (let i = 0; i < ops; i++)
          last = await nest.commandBus.execute<NestCreateOrder, string>(
            new NestCreateOrder(ids[i & 1023]!, 'c-1'),
          );
        const seconds = secondsSince(start);
        check('nest command result', last, ids[(ops - 1) & 1023]);
        return seconds;
      },
    },
    {
      id: 'query',
      title: 'Query send (awaited, handler returns a value)',
      anchorName: '@nestjs/cqrs QueryBus.execute',
      gomes: async (ops) => {
        let last = '';
        const start = process.hrtime.bigint();
        for (let i = 0; i < ops; i++) last = await queryBus.send(new BenchGetOrder(ids[i & 1023]!));
        const seconds = secondsSince(start);
        check('gomes query result', last, ids[(ops - 1) & 1023]);
        return seconds;
      },
      anchor: async (ops) => {
        let last = '';
        const start = process.hrtime.bigint();
        for (let i = 0; i < ops; i++)
          last = await nest.queryBus.execute<NestGetOrder, string>(new NestGetOrder(ids[i & 1023]!));
        const seconds = secondsSince(start);
        check('nest query result', last, ids[(ops - 1) & 1023]);
        return seconds;
      },
    },
    {
      id: 'event',
      title: 'Event publish to 2 handlers (awaited until both ran)',
      anchorName: '@nestjs/cqrs EventBus.publish',
      gomes: async (ops) => {
        const before = runs.events;
        const start = process.hrtime.bigint();
        for (let i = 0; i < ops; i++) await eventBus.publish(new BenchOrderCreated(ids[i & 1023]!));
        const seconds = secondsSince(start);
        check('gomes event handler runs', runs.events - before, 2 * ops);
        return seconds;
      },
      anchor: async (ops) => {
        // EventBus.publish only hands the event to its subject: wait until both handlers ran.
        let pending = 0;
        let total = 0;
        let wake: () => void = () => undefined;
        eventSink.ran = () => {
          total++;
          if (--pending === 0) wake();
        };
        const start = process.hrtime.bigint();
        for (let i = 0; i < ops; i++) {
          pending = 2;
          const bothRan = new Promise<void>((resolve) => (wake = resolve));
          nest.eventBus.publish(new NestOrderCreated(ids[i & 1023]!));
          await bothRan;
        }
        const seconds = secondsSince(start);
        check('nest event handler runs', total, 2 * ops);
        return seconds;
      },
    },
  ];
}
