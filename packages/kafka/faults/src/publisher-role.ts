import { createGomes, isGomesError } from '@gomes/core';
import { KafkaConnection, KafkaPublisherChannelBuilder } from '@gomes/kafka';
import { N_HEADER, keyOf, kindOf, type PublisherAppConfig } from './app-config.js';
import { FaultTick, PoisonSerializer } from './fault-event.js';
import { RecordLog, now } from './record-log.js';
import { stderrLogger } from './stderr-logger.js';

/**
 * A publisher process: `total` events on `keys` keys through the event bus, one send in flight per
 * key (so each key's acked messages are in the log in send order), paced at `ratePerSecond`. Each
 * outcome is recorded: `a` acknowledged, `f` failed (with its error code; the message is not sent
 * again). Exits when every send settled.
 */
export async function runPublisher(config: PublisherAppConfig): Promise<void> {
  const log = new RecordLog(config.recordFile);
  const logger = stderrLogger('info', { pid: process.pid });
  const app = createGomes({ name: `fault-publisher-${process.pid}`, logger });
  app.addChannelConnection(
    new KafkaConnection('kafka', config.brokers, { clientId: `fault-publisher-${process.pid}` }),
  );
  let publisher = new KafkaPublisherChannelBuilder('kafka', config.topic);
  if (config.poison) publisher = publisher.withSerializer(new PoisonSerializer());
  app.addPublisherChannel(publisher);
  await app.start();
  const events = app.eventBusByChannel(config.topic);

  const t0 = now();
  const sendKey = async (k: number): Promise<void> => {
    for (let n = k; n < config.total; n += config.keys) {
      const due = t0 + (n * 1000) / config.ratePerSecond;
      const wait = due - now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const { key, seq } = keyOf(n, config.keys);
      const tick = Object.assign(new FaultTick(), { n, key, seq, kind: kindOf(n, config.poison) });
      try {
        await events.publish(tick, { partitionKey: key, headers: { [N_HEADER]: String(n) } });
        log.write('a', n);
      } catch (error) {
        log.write('f', n, isGomesError(error) ? error.code : 'UNKNOWN');
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(config.keys, config.total) }, async (_, k) => sendKey(k)));
  log.write('done');
  await app.shutdown();
}
