// Shared by the example tests (examples/*/test/*.spec.ts and the packages' example-*.int.spec.ts):
// builds an example with the repository's tsc and runs its dist as a child process.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
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

/** How an example is run. */
export interface RunExampleOptions {
  /** Killed after this long (ms); default 30 s. */
  readonly timeoutMs?: number;
  /** Environment variables added to the test's own. */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * Builds the example and the projects it references (`tsc -b examples/<dir>`), always: the broker
 * tests use it, so that a change in a package is in the example's run.
 */
export async function buildExample(dir: string): Promise<void> {
  // The repository's own tsc: works whether pnpm is installed or run through npx.
  await exec(join(REPO_ROOT, 'node_modules', '.bin', 'tsc'), ['-b', `examples/${dir}`], { cwd: REPO_ROOT });
}

/** Builds the example (and what it references) when its dist is missing or older than a source file. */
export async function buildIfNeeded(dir: string): Promise<void> {
  const main = join(REPO_ROOT, 'examples', dir, 'dist', 'main.js');
  const src = join(REPO_ROOT, 'examples', dir, 'src');
  const sources = readdirSync(src).map((file) => join(src, file));
  if (existsSync(main) && sources.every((s) => statSync(main).mtimeMs >= statSync(s).mtimeMs)) return;
  await buildExample(dir);
}

/** Runs `node examples/<dir>/dist/main.js` from the repository root and returns its output. */
export async function runExample(dir: string, options: RunExampleOptions = {}): Promise<ExampleRun> {
  return new Promise((resolvePromise) => {
    execFile(
      process.execPath,
      [`examples/${dir}/dist/main.js`],
      {
        cwd: REPO_ROOT,
        timeout: options.timeoutMs ?? 30_000,
        killSignal: 'SIGKILL',
        env: { ...process.env, NODE_OPTIONS: '', ...options.env },
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolvePromise({ code, stdout, stderr });
      },
    );
  });
}
