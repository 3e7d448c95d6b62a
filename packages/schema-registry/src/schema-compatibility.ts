import type avsc from 'avsc';
import type { CompatibilityLevel } from './schema-registry-client.js';

/**
 * Why `reader` cannot read data written with `writer`, or `undefined` when it can (avsc's schema
 * resolution: the rules of the Avro specification).
 *
 * @internal
 */
export function cannotRead(reader: avsc.Type, writer: avsc.Type): string | undefined {
  try {
    reader.createResolver(writer);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/**
 * Explains, under `level`, why `candidate` is incompatible with `latest` (the registry's answer
 * often carries no reason): BACKWARD needs the new schema to read the old one, FORWARD the old one
 * to read the new one, FULL both. `undefined` when the check finds no reason (e.g. a transitive
 * level failing against an older version).
 *
 * @internal
 */
export function explainIncompatibility(
  level: CompatibilityLevel,
  candidate: avsc.Type,
  latest: avsc.Type,
): string | undefined {
  const reasons: string[] = [];
  if (level.startsWith('BACKWARD') || level.startsWith('FULL')) {
    const why = cannotRead(candidate, latest);
    if (why) reasons.push(`it cannot read data written with the latest version (${why})`);
  }
  if (level.startsWith('FORWARD') || level.startsWith('FULL')) {
    const why = cannotRead(latest, candidate);
    if (why) reasons.push(`the latest version cannot read data written with it (${why})`);
  }
  return reasons.length > 0 ? reasons.join('; ') : undefined;
}
