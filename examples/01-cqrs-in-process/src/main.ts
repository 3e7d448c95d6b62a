/**
 * Example 01 — CQRS in process: a command that changes state and a query that reads it, both handled
 * in this process through the decorator API, with class-validator validation on send.
 *
 * Run: pnpm build && node examples/01-cqrs-in-process/dist/main.js
 */
import 'reflect-metadata';
import { IsInt, IsString, Min, MinLength } from 'class-validator';
import {
  Action,
  Command,
  CommandHandler,
  Query,
  QueryHandler,
  ValidationError,
  createGomes,
  type HandlerContext,
} from '@gomes/core';

interface Order {
  id: string;
  sku: string;
  quantity: number;
}

@Command('createOrder')
class CreateOrder extends Action<string> {
  @IsString() @MinLength(3) sku: string;
  @IsInt() @Min(1) quantity: number;
  constructor(sku: string, quantity: number) {
    super();
    this.sku = sku;
    this.quantity = quantity;
  }
}

@Query('getOrder')
class GetOrder extends Action<Order | undefined> {
  @IsString() id: string;
  constructor(id: string) {
    super();
    this.id = id;
  }
}

class OrderRepository {
  readonly #orders = new Map<string, Order>();
  save(order: Order): void {
    this.#orders.set(order.id, order);
  }
  find(id: string): Order | undefined {
    return this.#orders.get(id);
  }
}

@CommandHandler(CreateOrder)
class CreateOrderHandler {
  constructor(private readonly repository: OrderRepository) {}
  handle(command: CreateOrder, context: HandlerContext): string {
    const id = `order-${context.messageId.slice(-6)}`;
    this.repository.save({ id, sku: command.sku, quantity: command.quantity });
    return id;
  }
}

@QueryHandler(GetOrder)
class GetOrderHandler {
  constructor(private readonly repository: OrderRepository) {}
  handle(query: GetOrder): Order | undefined {
    return this.repository.find(query.id);
  }
}

export async function main(): Promise<void> {
  const repository = new OrderRepository();
  const app = createGomes({ name: 'cqrs-example' });
  app.addActionHandler(new CreateOrderHandler(repository)).addActionHandler(new GetOrderHandler(repository));
  await app.start();

  const id = await app.commandBus().send(new CreateOrder('book-42', 2));
  console.log(`createOrder -> ${id}`);
  const order = await app.queryBus().send(new GetOrder(id));
  console.log(`getOrder(${id}) -> ${JSON.stringify(order)}`);

  try {
    await app.commandBus().send(new CreateOrder('x', 0));
  } catch (error) {
    if (error instanceof ValidationError)
      console.log(`invalid command rejected before sending: ${error.message}`);
    else throw error;
  }

  app.showActiveEndpoints((table) => console.log(table));
  await app.shutdown();
}

await main();
