// Runs examples/06-schemas (built with tsc) against the real broker and registry as a child process and
// checks what it prints: schemas registered at start, evolution both ways, a breaking change refused.
import { buildExample, runExample } from '../../../../examples/test-support/run-example.js';
import { env as kafka, testDriverName } from '../../../kafka/test/support/kafka-harness.js';
import { registryTestEnv, type RegistryTestEnv } from '../support/registry-test-env.js';

const DIR = '06-schemas';
let registry: RegistryTestEnv;

beforeAll(async () => {
  registry = registryTestEnv();
  await buildExample(DIR);
}, 300_000);

describe('example 06-schemas', () => {
  it('registers, evolves both ways and refuses a breaking change, then exits with code 0', async () => {
    const { code, stdout, stderr } = await runExample(DIR, {
      timeoutMs: 90_000,
      env: {
        KAFKA_BROKERS: kafka.brokers.join(','),
        GOMES_KAFKA_DRIVER: testDriverName(),
        SCHEMA_REGISTRY_URL: registry.url,
        SCHEMA_REGISTRY_USERNAME: registry.username,
        SCHEMA_REGISTRY_PASSWORD: registry.password,
      },
    });
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
