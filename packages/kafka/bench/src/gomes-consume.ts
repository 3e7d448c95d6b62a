/**
 * The gomes consume side of `pnpm bench`: the full consumer path users get (createGomes + Kafka
 * consumer channel + eventDrivenConsumer + a no-op handler), with gomes' defaults or one of the
 * variants of the consume table (more processors, a batch handler, poison records).
 */
import {
  createGomes,
  defineBatchEventHandler,
  defineEventHandler,
  NonRetriableError,
  type Gomes,
} from '@gomes/core';
import {
  KafkaConnection,
  KafkaConsumerChannelBuilder,
  KafkaPublisherChannelBuilder,
  type KafkaDriverName,
  type MessageSerializer,
} from '@gomes/kafka';
import { BenchOrderPlaced } from './gomes-kafka.js';
import { withTimeout, type ConsumeResult } from './raw-kafka.js';

/**
 * Poison records: every record whose `seq` is a multiple of `every` always throws a retriable
 * error; the consumer retries it `attempts` times `backoffMs` apart, then dead-letters it to
 * `deadLetterTopic`.
 */
export interface PoisonTuning {
  readonly every: number;
  readonly attempts: number;
  readonly backoffMs: number;
  readonly deadLetterTopic: string;
}

/** Non-default consumer settings (`{}` = gomes' defaults). */
export interface ConsumeTuning {
  /** Event-driven consumer `withMessageProcessingTimeout` (default 100000; 0 = off). */
  readonly processingTimeoutMs?: number;
  /** Event-driven consumer `withAmountOfProcessors` (default 1). */
  readonly processors?: number;
  /** A batch event handler with this `maxSize` instead of the single event handler. */
  readonly batchMaxSize?: number;
  /** Poison records (see {@link PoisonTuning}). */
  readonly poison?: PoisonTuning;
  /** Consumer channel `withSerializer` (default JSON). */
  readonly serializer?: MessageSerializer;
  /** The connection's driver (default kafkajs). */
  readonly driver?: KafkaDriverName;
  /** `GomesOptions.inheritCausation` (default gomes' default). */
  readonly inheritCausation?: boolean;
}

/** What the handlers of one run saw. */
class RunCounter {
  good = 0;
  poisonAttempts = 0;
  first: bigint | undefined;
  last: bigint | undefined;
  readonly done: Promise<void>;
  #finish: () => void = () => undefined;

  constructor(
    private readonly expectedGood: number,
    private readonly expectedPoisonAttempts: number,
  ) {
    this.done = new Promise<void>((resolve) => (this.#finish = resolve));
  }

  /** Counts `n` good records handled now. */
  handled(n: number): void {
    this.first ??= process.hrtime.bigint();
    this.good += n;
    if (this.good === this.expectedGood) this.last = process.hrtime.bigint();
    this.#check();
  }

  /** Counts one attempt of a poison record. */
  poisoned(): void {
    this.poisonAttempts++;
    this.#check();
  }

  #check(): void {
    if (this.good >= this.expectedGood && this.poisonAttempts >= this.expectedPoisonAttempts) this.#finish();
  }
}

/** Always thrown by the poison records' handler (retriable, so the retry rules run). */
class PoisonRecordError extends Error {}

function registerHandler(app: Gomes, counter: RunCounter, tuning: ConsumeTuning): void {
  const every = tuning.poison?.every;
  const isPoison = (e: BenchOrderPlaced): boolean => every !== undefined && e.seq % every === 0;
  if (tuning.batchMaxSize !== undefined) {
    app.addActionHandler(
      defineBatchEventHandler(
        BenchOrderPlaced,
        (events) => {
          let good = 0;
          const outcomes = events.map((e) => {
            if (!isPoison(e)) {
              good++;
              return 'done' as const;
            }
            counter.poisoned();
            return 'retry' as const;
          });
          counter.handled(good);
          return outcomes;
        },
        { maxSize: tuning.batchMaxSize },
      ),
    );
    return;
  }
  app.addActionHandler(
    defineEventHandler(BenchOrderPlaced, (e) => {
      if (isPoison(e)) {
        counter.poisoned();
        throw new PoisonRecordError(`poison record ${e.seq}`);
      }
      counter.handled(1);
    }),
  );
}

/** How many of `expected` records (seq 0 … expected − 1) are poison. */
export function poisonCount(expected: number, poison: PoisonTuning | undefined): number {
  return poison === undefined ? 0 : Math.ceil(expected / poison.every);
}

/**
 * The full consumer path: createGomes, a Kafka consumer channel (fresh group, gomes' defaults
 * unless `tuning` says otherwise), a no-op handler, `eventDrivenConsumer(...).run()`. The clock
 * runs from the first good record handled to the last; with poison records the run also waits
 * until every poison record used up its attempts, and `shutdown()` then dead-letters them and
 * commits the acked offsets (checked by the caller). `count` is the good records handled and
 * `msgsPerSec` their rate.
 */
export async function gomesConsume(
  brokers: readonly string[],
  topic: string,
  groupId: string,
  expected: number,
  timeoutMs: number,
  tuning: ConsumeTuning = {},
): Promise<ConsumeResult> {
  const poison = tuning.poison;
  const poisoned = poisonCount(expected, poison);
  const counter = new RunCounter(expected - poisoned, poisoned * (poison?.attempts ?? 0));
  const errors: Error[] = [];
  const app = createGomes({
    name: 'bench-consumer',
    ...(tuning.inheritCausation === undefined ? {} : { inheritCausation: tuning.inheritCausation }),
  });
  app.addChannelConnection(new KafkaConnection('kafka', brokers, { driver: tuning.driver ?? 'kafkajs' }));
  let builder = new KafkaConsumerChannelBuilder('kafka', topic, 'bench-consumer').withGroupId(groupId);
  if (tuning.serializer) builder = builder.withSerializer(tuning.serializer);
  if (poison) {
    app.addPublisherChannel(new KafkaPublisherChannelBuilder('kafka', poison.deadLetterTopic));
    builder = builder
      .withRetry({ maxAttempts: poison.attempts, initialDelayMs: poison.backoffMs, multiplier: 1 })
      .withDeadLetterChannelName(poison.deadLetterTopic);
  }
  app.addConsumerChannel(builder);
  registerHandler(app, counter, tuning);
  app.onUnhandledError((error) => {
    if (!(error instanceof PoisonRecordError) && !(error instanceof NonRetriableError)) errors.push(error);
  });
  await app.start();
  try {
    let consumer = app.eventDrivenConsumer('bench-consumer');
    if (tuning.processingTimeoutMs !== undefined)
      consumer = consumer.withMessageProcessingTimeout(tuning.processingTimeoutMs);
    if (tuning.processors !== undefined) consumer = consumer.withAmountOfProcessors(tuning.processors);
    await consumer.run();
    await withTimeout(
      counter.done,
      timeoutMs,
      () =>
        `gomes consumer (${groupId}) handled ${counter.good}/${expected - poisoned} good records and ${counter.poisonAttempts} poison attempts`,
    );
  } finally {
    await app.shutdown();
  }
  if (errors.length > 0)
    throw new Error(`gomes consumer reported ${errors.length} error(s): ${errors[0]!.message}`);
  const ms = Number((counter.last ?? 0n) - (counter.first ?? 0n)) / 1e6;
  return { msgsPerSec: counter.good / (ms / 1000), count: counter.good + poisoned };
}
