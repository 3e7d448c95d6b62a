import type { LogFields, Logger } from '@gomes/core';

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;
type Level = keyof typeof LEVELS;

/** A logger writing JSON lines to stderr (the suite keeps each app's stderr in a file). */
export function stderrLogger(min: Level = 'info', bindings: LogFields = {}): Logger {
  const line =
    (level: Level) =>
    (message: string, fields?: LogFields): void => {
      if (LEVELS[level] < LEVELS[min]) return;
      process.stderr.write(
        `${JSON.stringify({ t: new Date().toISOString(), level, message, ...bindings, ...fields })}\n`,
      );
    };
  return {
    debug: line('debug'),
    info: line('info'),
    warn: line('warn'),
    error: line('error'),
    child: (more) => stderrLogger(min, { ...bindings, ...more }),
  };
}
