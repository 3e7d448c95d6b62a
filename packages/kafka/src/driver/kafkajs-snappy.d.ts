declare module 'kafkajs-snappy' {
  /** kafkajs codec factory for snappy (untyped package). */
  const SnappyCodec: () => {
    compress(encoder: { buffer: Buffer }): Promise<Buffer>;
    decompress(buffer: Buffer): Promise<Buffer>;
  };
  export = SnappyCodec;
}

declare module 'kafkajs/src/network/requestQueue/index.js' {
  /** kafkajs' per-connection request queue (internal, untyped). */
  const RequestQueue: {
    prototype: {
      throttledUntil: number;
      throttleCheckTimeoutId: NodeJS.Timeout | null;
      pending: unknown[];
      checkPendingRequests(): void;
      scheduleCheckPendingRequests(): void;
    };
  };
  export = RequestQueue;
}
