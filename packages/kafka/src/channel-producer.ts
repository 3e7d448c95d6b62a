import type { DriverProducer, KafkaDriver } from './driver/kafka-driver.js';
import type { KafkaPublisherOptions } from './kafka-publisher-options.js';

/**
 * The producer of a publisher channel, connected, and how to make another one like it (the channel
 * replaces a fenced or broken producer with `createProducer`). One request in flight, no topic
 * auto-creation. A producer that fails to connect is closed and the error rethrown as it is.
 *
 * @internal
 */
export async function openChannelProducer(
  driver: KafkaDriver,
  o: Pick<KafkaPublisherOptions, 'idempotent' | 'maxAttempts' | 'requestTimeoutMs'>,
): Promise<{ producer: DriverProducer; createProducer: () => DriverProducer }> {
  const createProducer = (): DriverProducer =>
    driver.createProducer({
      idempotent: o.idempotent,
      maxAttempts: o.maxAttempts,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      produceTimeoutMs: o.requestTimeoutMs,
    });
  const producer = createProducer();
  try {
    await producer.connect();
  } catch (error) {
    await producer.close().catch(() => undefined);
    throw error;
  }
  return { producer, createProducer };
}
