import * as lz4 from 'lz4js';
import { lz4Codec, lz4CompressFrame, zstdCodec } from './compression-codecs.js';

describe('compression codecs', () => {
  const inputs = [
    Buffer.alloc(0),
    Buffer.from('x'),
    Buffer.from('order line '.repeat(20_000)),
    Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7919) % 251)),
  ];

  it.each(inputs.map((b) => [b.length, b] as const))(
    'lz4 round-trips %d bytes in a Kafka-readable frame',
    async (_n, input) => {
      const frame = lz4CompressFrame(input);
      expect(frame.readUInt32LE(0)).toBe(0x184d2204);
      expect(frame[4]).toBe(0x60); // version 01 + independent blocks: what Kafka's Lz4BlockInputStream requires
      expect(Buffer.from(lz4.decompress(frame)).equals(input)).toBe(true);
      expect((await lz4Codec().decompress(await lz4Codec().compress({ buffer: input }))).equals(input)).toBe(
        true,
      );
    },
  );

  it('zstd round-trips and compresses repetitive data', async () => {
    const input = Buffer.from('order line '.repeat(20_000));
    const compressed = await zstdCodec().compress({ buffer: input });
    expect(compressed.length).toBeLessThan(input.length / 10);
    expect((await zstdCodec().decompress(compressed)).equals(input)).toBe(true);
  });
});
