declare module 'kafkajs-snappy' {
  /** kafkajs codec factory for snappy (untyped package). */
  const SnappyCodec: () => {
    compress(encoder: { buffer: Buffer }): Promise<Buffer>;
    decompress(buffer: Buffer): Promise<Buffer>;
  };
  export = SnappyCodec;
}
