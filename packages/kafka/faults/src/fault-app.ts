/**
 * Entry point of a fault app (a child process of the fault-tolerance suite):
 *   node packages/kafka/faults/dist/fault-app.js '<FaultAppConfig as JSON>'
 */
import 'reflect-metadata';
import type { FaultAppConfig } from './app-config.js';
import { runConsumer } from './consumer-role.js';
import { runPublisher } from './publisher-role.js';

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as FaultAppConfig;
  if (config.role === 'consumer') await runConsumer(config);
  else if (config.role === 'publisher') await runPublisher(config);
  else throw new Error(`unknown role in ${process.argv[2] ?? '(no config)'}`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `fault app failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
