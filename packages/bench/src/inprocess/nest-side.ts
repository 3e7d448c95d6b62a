/**
 * The anchor: `@nestjs/cqrs` in a Nest application context (`NestFactory.createApplicationContext`
 * with `CqrsModule.forRoot()`), the way Nest users run it. Same command, query and event shapes
 * and handler bodies as the gomes side.
 */
import 'reflect-metadata';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  CommandBus,
  CommandHandler,
  CqrsModule,
  EventBus,
  EventsHandler,
  QueryBus,
  QueryHandler,
  type ICommandHandler,
  type IEventHandler,
  type IQueryHandler,
} from '@nestjs/cqrs';

/** The benchmark command (Nest). */
export class NestCreateOrder {
  constructor(
    readonly orderId: string,
    readonly customerId: string,
  ) {}
}

/** The benchmark query (Nest). */
export class NestGetOrder {
  constructor(readonly orderId: string) {}
}

/** The benchmark event (Nest). */
export class NestOrderCreated {
  constructor(readonly orderId: string) {}
}

/** Where the two event handlers report that they ran (set per run by the scenario). */
export const eventSink = { ran: (): void => undefined };

@CommandHandler(NestCreateOrder)
class CreateOrderHandler implements ICommandHandler<NestCreateOrder, string> {
  async execute(command: NestCreateOrder): Promise<string> {
    return command.orderId;
  }
}

@QueryHandler(NestGetOrder)
class GetOrderHandler implements IQueryHandler<NestGetOrder, string> {
  async execute(query: NestGetOrder): Promise<string> {
    return query.orderId;
  }
}

@EventsHandler(NestOrderCreated)
class FirstEventHandler implements IEventHandler<NestOrderCreated> {
  async handle(): Promise<void> {
    eventSink.ran();
  }
}

@EventsHandler(NestOrderCreated)
class SecondEventHandler implements IEventHandler<NestOrderCreated> {
  async handle(): Promise<void> {
    eventSink.ran();
  }
}

@Module({
  imports: [CqrsModule.forRoot()],
  providers: [CreateOrderHandler, GetOrderHandler, FirstEventHandler, SecondEventHandler],
})
class BenchModule {}

/** The Nest side: the application context and its buses. */
export interface NestSide {
  readonly app: INestApplicationContext;
  readonly commandBus: CommandBus;
  readonly queryBus: QueryBus;
  readonly eventBus: EventBus;
}

/** Starts the Nest application context (no logger output). */
export async function startNest(): Promise<NestSide> {
  const app = await NestFactory.createApplicationContext(BenchModule, { logger: false });
  await app.init();
  return {
    app,
    commandBus: app.get(CommandBus),
    queryBus: app.get(QueryBus),
    eventBus: app.get(EventBus),
  };
}
