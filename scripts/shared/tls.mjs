// A throwaway CA and a server certificate for 127.0.0.1 / localhost (openssl), for the local
// services' TLS listeners: the Kafka broker's SSL listener and the schema registry's HTTPS port.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** Writes ca.crt/ca.key and server.crt/server.key (unencrypted PKCS#8) into tlsDir; returns their paths. */
export function generateServerTls(tlsDir, caName) {
  fs.mkdirSync(tlsDir, { recursive: true });
  const run = (...args) =>
    execFileSync('openssl', args, { cwd: tlsDir, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  run(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '3650',
    '-subj',
    `/CN=${caName}`,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
  );
  run(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=localhost',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
  );
  fs.writeFileSync(
    path.join(tlsDir, 'san.ext'),
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n',
  );
  run(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '3650',
    '-extfile',
    'san.ext',
    '-out',
    'server.crt',
  );
  return {
    ca: path.join(tlsDir, 'ca.crt'),
    cert: path.join(tlsDir, 'server.crt'),
    key: path.join(tlsDir, 'server.key'),
  };
}
