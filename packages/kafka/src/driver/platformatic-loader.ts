/**
 * Loads `@platformatic/kafka`, an optional peer dependency of `@gomes/kafka`, when a connection
 * chooses the `platformatic` driver: applications on the default kafkajs driver never load it (nor
 * need it installed).
 *
 * @packageDocumentation
 */
import { ConfigurationError } from '@gomes/core';
import type * as Platformatic from '@platformatic/kafka';
import type { KafkaDriverFactory } from './kafka-driver.js';

/** The npm package of the platformatic driver, and the release line gomes is tested with. @internal */
export const PLATFORMATIC_PACKAGE = '@platformatic/kafka';
/** @internal */
export const PLATFORMATIC_VERSION_RANGE = '^1.35.0';

/** The loaded module, as its own type declarations describe it. @internal */
export type PlatformaticKafka = typeof Platformatic;

let loading: Promise<PlatformaticKafka> | undefined;

/**
 * Imports `specifier` (an optional peer dependency). A missing package is a
 * {@link ConfigurationError} that names the package and how to install it; any other failure
 * (a broken install) is rethrown as is.
 *
 * @internal
 */
export async function importOptionalPeer<T>(
  specifier: string,
  packageName: string,
  versionRange: string,
  usedFor: string,
): Promise<T> {
  try {
    return (await import(specifier)) as T;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const missing =
      (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
      String((error as Error).message).includes(specifier);
    if (!missing) throw error;
    throw new ConfigurationError([
      `${usedFor} needs the package ${packageName} (${versionRange}), which is not installed: ` +
        `run \`npm install ${packageName}@"${versionRange}"\` (or pnpm add / yarn add) in the application`,
    ]);
  }
}

/**
 * `@platformatic/kafka`, imported once. On a Node.js without zlib's zstd (Node 20), its zstd codec is
 * backed by the same WebAssembly zstd build the kafkajs driver uses, so both drivers read and write
 * every codec on every supported Node.js.
 *
 * @internal
 */
export async function loadPlatformaticKafka(): Promise<PlatformaticKafka> {
  loading ??= (async () => {
    const kafka = await importOptionalPeer<PlatformaticKafka>(
      PLATFORMATIC_PACKAGE,
      PLATFORMATIC_PACKAGE,
      PLATFORMATIC_VERSION_RANGE,
      'The Kafka driver "platformatic"',
    );
    await backfillZstd(kafka);
    return kafka;
  })().catch((error: unknown) => {
    loading = undefined;
    throw error;
  });
  return loading;
}

/** A driver factory on `@platformatic/kafka` (loads it first). @internal */
export async function platformaticDriverFactory(): Promise<KafkaDriverFactory> {
  const kafka = await loadPlatformaticKafka();
  const { createPlatformaticDriver } = await import('./platformatic-driver.js');
  return (config) => createPlatformaticDriver(kafka, config);
}

/**
 * `@platformatic/kafka` compresses zstd with `zlib.zstdCompressSync`, which Node.js has from 22.15 on;
 * on older versions its codec throws. Its codec table is a plain exported object: the zstd entry is
 * given synchronous functions over zstd-codec's WebAssembly build (loaded here, once).
 */
async function backfillZstd(kafka: PlatformaticKafka): Promise<void> {
  const codec = kafka.compressionsAlgorithms.zstd as {
    available: boolean;
    compressSync(data: Buffer): Buffer;
    decompressSync(data: Buffer): Buffer;
  };
  if (codec.available) return;
  const { zstdSimple } = await import('./compression-codecs.js');
  const zstd = await zstdSimple();
  // The library hands its codecs a Buffer or one of its DynamicBuffers (whose `buffer` is a Buffer).
  const bytes = (data: unknown): Uint8Array =>
    data instanceof Uint8Array ? data : (data as { buffer: Buffer }).buffer;
  codec.compressSync = (data) => Buffer.from(zstd.compress(bytes(data), 3));
  codec.decompressSync = (data) => Buffer.from(zstd.decompress(bytes(data)));
  codec.available = true;
}
