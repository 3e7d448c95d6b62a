import { closeSync, openSync, writeSync } from 'node:fs';

/** Wall-clock time in ms with sub-millisecond resolution (comparable across processes). */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * An append-only record file. Each line is written with one `write(2)` before the call returns, so a
 * line written before the handler's ack survives a SIGKILL right after it.
 */
export class RecordLog {
  readonly #fd: number;

  constructor(file: string) {
    this.#fd = openSync(file, 'a');
  }

  /** Appends `type`, the current time, then `fields`, tab-separated. */
  write(type: string, ...fields: (string | number)[]): void {
    writeSync(this.#fd, `${[type, now().toFixed(3), ...fields].join('\t')}\n`);
  }

  close(): void {
    closeSync(this.#fd);
  }
}
