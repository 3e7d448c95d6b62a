// Shared by the example tests (examples/*/test/main.spec.ts): builds and runs an example's dist.
import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** The repository root (tests run from anywhere). */
export const REPO_ROOT = resolve(__dirname, '../..');

/** What one run of an example printed. */
export interface ExampleRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Builds the example (and what it references) when its dist is missing or older than its source. */
export async function buildIfNeeded(dir: string): Promise<void> {
  const main = join(REPO_ROOT, 'examples', dir, 'dist', 'main.js');
  const source = join(REPO_ROOT, 'examples', dir, 'src', 'main.ts');
  if (existsSync(main) && statSync(main).mtimeMs >= statSync(source).mtimeMs) return;
  // The repository's own tsc: works whether pnpm is installed or run through npx.
  await exec(join(REPO_ROOT, 'node_modules', '.bin', 'tsc'), ['-b', `examples/${dir}`], { cwd: REPO_ROOT });
}

/** Runs `node examples/<dir>/dist/main.js` from the repository root and returns its output. */
export async function runExample(dir: string, timeoutMs = 30_000): Promise<ExampleRun> {
  return new Promise((resolvePromise) => {
    execFile(
      process.execPath,
      [`examples/${dir}/dist/main.js`],
      { cwd: REPO_ROOT, timeout: timeoutMs, env: { ...process.env, NODE_OPTIONS: '' } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolvePromise({ code, stdout, stderr });
      },
    );
  });
}
