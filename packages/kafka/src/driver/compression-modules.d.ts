declare module 'lz4js' {
  /** LZ4 frame decompression (pure JS). */
  export function decompress(src: Uint8Array, maxSize?: number): Uint8Array;
  /** Worst-case compressed size of `n` bytes. */
  export function compressBound(n: number): number;
  /** Compresses `src[sIndex, sIndex+sLength)` as one raw LZ4 block into `dst`; returns its size (0 = incompressible). */
  export function compressBlock(
    src: Uint8Array,
    dst: Uint8Array,
    sIndex: number,
    sLength: number,
    hashTable: Uint32Array,
  ): number;
}

declare module 'lz4js/xxh32.js' {
  /** xxHash32 of `src[index, index+length)`. */
  export function hash(seed: number, src: Uint8Array, index: number, length: number): number;
}

declare module 'zstd-codec' {
  /** zstd compiled to WebAssembly; `run` hands over the initialised module. */
  export const ZstdCodec: {
    run(
      callback: (zstd: {
        Simple: new () => {
          compress(data: Uint8Array, level?: number): Uint8Array;
          decompress(data: Uint8Array): Uint8Array;
        };
      }) => void,
    ): void;
  };
}
