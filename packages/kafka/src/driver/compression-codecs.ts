// The ambient declarations of the untyped codec packages must also load when only tests compile.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="./compression-modules.d.ts" />
/**
 * kafkajs codecs for LZ4 and zstd, on pure JavaScript / WebAssembly implementations (no native
 * addon, nothing downloaded at install time). kafkajs itself ships only gzip.
 *
 * @packageDocumentation
 */
import * as lz4 from 'lz4js';
import { hash as xxh32 } from 'lz4js/xxh32.js';
import { ZstdCodec } from 'zstd-codec';

/** The codec shape kafkajs expects in `CompressionCodecs`. @internal */
export interface KafkajsCodec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

const LZ4_MAGIC = 0x184d2204;
const LZ4_BLOCK_SIZE = 64 * 1024; // BD 4 = 64 KiB blocks
const LZ4_FLG = 0x60; // version 01, independent blocks, no checksums, no content size
const LZ4_BD = 4 << 4;
const LZ4_HASH_SIZE = 1 << 16; // lz4js' hash table size
const LZ4_UNCOMPRESSED = 0x80000000;

/**
 * Writes an LZ4 frame the way Kafka reads it (KIP-57): independent 64 KiB blocks, header checksum
 * over FLG and BD only. lz4js' own frame writer marks blocks as dependent, which Kafka rejects.
 *
 * @internal
 */
export function lz4CompressFrame(src: Uint8Array): Buffer {
  const blocks = Math.max(1, Math.ceil(src.length / LZ4_BLOCK_SIZE));
  const out = Buffer.allocUnsafe(7 + blocks * (4 + lz4.compressBound(LZ4_BLOCK_SIZE)) + 4);
  out.writeUInt32LE(LZ4_MAGIC, 0);
  out[4] = LZ4_FLG;
  out[5] = LZ4_BD;
  out[6] = (xxh32(0, out, 4, 2) >>> 8) & 0xff;
  let at = 7;
  const hashTable = new Uint32Array(LZ4_HASH_SIZE);
  const scratch = new Uint8Array(lz4.compressBound(LZ4_BLOCK_SIZE));
  for (let start = 0; start < src.length; start += LZ4_BLOCK_SIZE) {
    const block = src.subarray(start, Math.min(src.length, start + LZ4_BLOCK_SIZE));
    hashTable.fill(0);
    const size = lz4.compressBlock(block, scratch, 0, block.length, hashTable);
    if (size === 0 || size >= block.length) {
      out.writeUInt32LE((LZ4_UNCOMPRESSED | block.length) >>> 0, at);
      out.set(block, at + 4);
      at += 4 + block.length;
    } else {
      out.writeUInt32LE(size, at);
      out.set(scratch.subarray(0, size), at + 4);
      at += 4 + size;
    }
  }
  out.writeUInt32LE(0, at); // end mark
  return out.subarray(0, at + 4);
}

/** LZ4 frame format, as Kafka uses it (KIP-57). @internal */
export const lz4Codec = (): KafkajsCodec => ({
  compress: async (encoder) => lz4CompressFrame(encoder.buffer),
  decompress: async (buffer) => Buffer.from(lz4.decompress(buffer)),
});

/** zstd-codec's `Simple` codec. @internal */
export type ZstdSimple = {
  compress(data: Uint8Array, level?: number): Uint8Array;
  decompress(data: Uint8Array): Uint8Array;
};
let zstdLoading: Promise<ZstdSimple> | undefined;

/** zstd-codec's synchronous API; its WebAssembly module is loaded once, on first use. @internal */
export async function zstdSimple(): Promise<ZstdSimple> {
  zstdLoading ??= new Promise<ZstdSimple>((resolve) => ZstdCodec.run((z) => resolve(new z.Simple())));
  return zstdLoading;
}

/** zstd (level 3, the Kafka default), as Kafka uses it. @internal */
export const zstdCodec = (): KafkajsCodec => ({
  compress: async (encoder) => Buffer.from((await zstdSimple()).compress(encoder.buffer, 3)),
  decompress: async (buffer) => Buffer.from((await zstdSimple()).decompress(buffer)),
});
