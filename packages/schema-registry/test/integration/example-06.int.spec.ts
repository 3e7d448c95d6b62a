// Runs examples/06-schemas (built with tsc) against the real broker and registry as a child process and
// checks what it prints: schemas registered at start, evolution both ways, a breaking change refused.
import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { env as kafka, testDriverName } from '../../../kafka/test/support/kafka-harness.js';
import { registryTestEnv, type RegistryTestEnv } from '../support/registry-test-env.js';

const ROOT = path.resolve(__dirname, '../../../..');
const MAIN = path.join(ROOT, 'examples/06-schemas/dist/main.js');
let registry: RegistryTestEnv;

beforeAll(() => {
  registry = registryTestEnv();
  execFileSync('pnpm', ['exec', 'tsc', '-b', 'examples/06-schemas'], { cwd: ROOT, stdio: 'pipe' });
}, 300_000);

async function runExample(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN], {
      cwd: ROOT,
      env: {
        ...process.env,
        KAFKA_BROKERS: kafka.brokers.join(','),
        GOMES_KAFKA_DRIVER: testDriverName(),
        SCHEMA_REGISTRY_URL: registry.url,
        SCHEMA_REGISTRY_USERNAME: registry.username,
        SCHEMA_REGISTRY_PASSWORD: registry.password,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('example 06-schemas', () => {
  it('registers, evolves both ways and refuses a breaking change, then exits with code 0', async () => {
    const { code, stdout, stderr } = await runExample();
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain(`(driver ${testDriverName()})`);
    const subject = /topic (shop\.orders\.avro\.\w+)/.exec(stdout)?.[1];
    expect(subject).toBeDefined();
    expect(stdout).toContain(`${subject}-value version 1`);
    expect(stdout).toContain(`${subject}-value version 2`);
    for (const line of [
      '[billing v1]   o-1 alice 1999 cents',
      '[billing v1]   o-3 carol 1250 cents',
      '[billing v1]   o-4 dave 300 cents',
      '[analytics v2] o-1 via web',
      '[analytics v2] o-2 via web',
      '[analytics v2] o-3 via mobile',
    ])
      expect(stdout).toContain(line);
    expect(stdout).toContain(
      `refused: publisher "${subject}": schema com.acme.shop.OrderPlaced of action "orderPlaced" is incompatible with subject "${subject}-value": compatibility FULL, latest version 2`,
    );
    expect(stdout).toContain('cannot read "long" as "string"');
    expect(stdout).not.toContain('unexpected');
    expect(stdout).toMatch(/done in \d+\.\d s/);
  }, 120_000);
});
