// Every compression codec against the real broker. The topic is configured with
// compression.type=gzip, so the (Java) broker must decompress what we wrote to recompress it: a
// broker that could not read our lz4/zstd/snappy frames would reject the produce request.
import { MessageBuilder } from '@gomes/core';
import type { CompressionCodec } from '@gomes/kafka';
import { uniqueTopic } from '../support/kafka-test-env.js';
import {
  admin,
  closeAll,
  collect,
  connection,
  consumer,
  consumerBuilder,
  publisher,
  waitFor,
} from '../support/kafka-harness.js';

afterEach(closeAll);

const codecs: CompressionCodec[] = ['gzip', 'snappy', 'lz4', 'zstd'];

describe('compression codecs (real broker)', () => {
  it.each(codecs)(
    '%s: the broker accepts and recompresses the batch, and messages round-trip',
    async (codec) => {
      const conn = await connection();
      const topic = uniqueTopic(`compression-${codec}`);
      await (
        await admin()
      ).createTopics([
        {
          topic,
          partitions: 1,
          replicationFactor: 1,
          configs: { 'compression.type': codec === 'gzip' ? 'lz4' : 'gzip' },
        },
      ]);
      const pub = await publisher(conn, topic, (b) => b.withCompression(codec));
      const text = 'order line '.repeat(200);
      const sent = Array.from({ length: 20 }, (_, i) =>
        MessageBuilder.withPayload({ i, text }).correlationId('same-key').header('codec', codec).build(),
      );
      await Promise.all(sent.map(async (m) => pub.send(m)));
      expect(pub.stats.sent).toBe(20);

      const ch = await consumer(conn, consumerBuilder(topic, uniqueTopic('g')));
      const c = await collect(ch);
      await waitFor(() => c.deliveries.length >= 20, 20000);
      expect(c.deliveries.map((d) => d.message.messageId).sort()).toEqual(
        sent.map((m) => m.messageId).sort(),
      );
      for (const d of c.deliveries) {
        expect(d.message.payload).toEqual({ i: expect.any(Number), text });
        expect(d.message.header('codec')).toBe(codec);
      }
    },
  );
});
