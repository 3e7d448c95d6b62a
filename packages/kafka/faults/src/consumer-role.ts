import { createGomes, defineEventHandler, type Gomes } from '@gomes/core';
import { KafkaConnection, KafkaConsumerChannelBuilder, KafkaPublisherChannelBuilder } from '@gomes/kafka';
import type { ConsumerAppConfig } from './app-config.js';
import { FaultTick } from './fault-event.js';
import { RecordLog } from './record-log.js';
import { stderrLogger } from './stderr-logger.js';

const CONSUMER = 'fault-consumer';

/**
 * A consumer process as an application would write it: createGomes + KafkaConnection + consumer
 * channel + an event handler + an event-driven consumer. The handler records each message it
 * finished (before returning, so before the ack). SIGTERM runs `gomes.shutdown()` and exits.
 */
export async function runConsumer(config: ConsumerAppConfig): Promise<void> {
  const log = new RecordLog(config.recordFile);
  const logger = stderrLogger('info', { pid: process.pid });
  const app: Gomes = createGomes({
    name: `fault-consumer-${process.pid}`,
    logger,
    shutdownTimeoutMs: 10_000,
  });
  app.addChannelConnection(
    new KafkaConnection('kafka', config.brokers, { clientId: `fault-consumer-${process.pid}` }),
  );
  let builder = new KafkaConsumerChannelBuilder('kafka', config.topic, CONSUMER).withGroupId(config.group);
  if (config.sessionTimeoutMs !== undefined) builder = builder.withSessionTimeout(config.sessionTimeoutMs);
  if (config.heartbeatIntervalMs !== undefined)
    builder = builder.withHeartbeatInterval(config.heartbeatIntervalMs);
  if (config.rebalanceTimeoutMs !== undefined)
    builder = builder.withRebalanceTimeout(config.rebalanceTimeoutMs);
  if (config.commitIntervalMs !== undefined) builder = builder.withCommitInterval(config.commitIntervalMs);
  if (config.deadLetterTopic !== undefined) {
    builder = builder
      .withDeadLetterChannelName(config.deadLetterTopic)
      .withRetry({ maxAttempts: 2, initialDelayMs: 20 });
    app.addPublisherChannel(new KafkaPublisherChannelBuilder('kafka', config.deadLetterTopic));
  }
  app.addConsumerChannel(builder);
  app.addActionHandler(
    defineEventHandler(FaultTick, async (tick, context) => {
      if (config.handlerDelayMs > 0) await sleep(config.handlerDelayMs);
      if (tick.kind === 'throwing') {
        log.write('x', tick.n, context.attempt);
        throw new Error(`message ${tick.n} always fails`);
      }
      log.write('h', tick.n, context.deliveryAttempt);
    }),
  );

  let stopping: Promise<void> | undefined;
  process.on('SIGTERM', () => {
    stopping ??= (async () => {
      log.write('stop', 'begin');
      await app.shutdown();
      log.write('stop', 'end');
      process.exit(0);
    })();
  });

  await app.start();
  await app.eventDrivenConsumer(CONSUMER).withAmountOfProcessors(config.processors).run();
  log.write('ready');
  if (config.healthEveryMs > 0) {
    setInterval(() => {
      const h = app.health();
      log.write('health', h.ready ? 1 : 0, h.live ? 1 : 0, h.reasons.join(' | ').replace(/[\t\n]/g, ' '));
    }, config.healthEveryMs).unref();
  }
  // Keep running until SIGTERM / SIGKILL.
  setInterval(() => undefined, 1 << 30);
}

async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}
