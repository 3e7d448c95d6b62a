// Actions and helpers shared by the gomes lifecycle and configuration unit tests
// (src/gomes/gomes-lifecycle.spec.ts, src/gomes/gomes-configuration.spec.ts).
import 'reflect-metadata';
import { IsString } from 'class-validator';
import { Action } from '../../src/actions/action.js';
import { Command, Event, Query } from '../../src/actions/action-decorators.js';
import type { ChannelConnection } from '../../src/channel/channel-connection.js';
import { isGomesError } from '../../src/errors/gomes-error.js';

@Command('placeOrder')
export class PlaceOrder extends Action<string> {
  @IsString() sku: string;
  constructor(sku: string) {
    super();
    this.sku = sku;
  }
}

@Command('archiveOrder')
export class ArchiveOrder extends Action<void> {
  constructor(readonly id: string) {
    super();
  }
}

@Query('orderCount')
export class OrderCount extends Action<number> {}

@Event('orderPlaced')
export class OrderPlaced {
  constructor(readonly id: string) {}
}

export const code = (e: unknown): string | undefined => (isGomesError(e) ? e.code : undefined);

/** A connection of another transport, to check transport mismatches. */
export const foreignConnection = (name: string): ChannelConnection => ({
  name,
  validate: () => [],
  connect: async () => undefined,
  disconnect: async () => undefined,
});
