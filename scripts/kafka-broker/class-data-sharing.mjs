// AppCDS (dynamic class-data archive, JDK 13+): the first run of each JVM (format tool, broker) dumps the
// classes it loaded at exit; later runs map the archive. Keyed by Kafka version and java binary, stored in
// .kafka/cds/. Disable with GOMES_KAFKA_CDS=0. The JVM ignores (with a warning) an archive it cannot use.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

function javaKey() {
  const candidates = [];
  if (process.env.JAVA_HOME) candidates.push(path.join(process.env.JAVA_HOME, 'bin', 'java'));
  for (const dir of (process.env.PATH ?? '').split(path.delimiter))
    if (dir) candidates.push(path.join(dir, 'java'));
  for (const c of candidates) {
    try {
      const real = fs.realpathSync(c);
      const st = fs.statSync(real);
      if (st.isFile())
        return crypto
          .createHash('sha1')
          .update(`${real}:${st.size}:${st.mtimeMs}`)
          .digest('hex')
          .slice(0, 10);
    } catch {
      // next
    }
  }
  return 'java';
}

/** JVM flags to use or create the archive `name`; `commit()` publishes a freshly dumped archive. */
export function cds(root, version, name) {
  if (/^(0|false|no)$/i.test(process.env.GOMES_KAFKA_CDS ?? ''))
    return { flags: [], dumping: false, commit() {} };
  const dir = path.join(root, '.kafka', 'cds', `${version}-${javaKey()}`);
  const file = path.join(dir, `${name}.jsa`);
  if (fs.existsSync(file) && fs.statSync(file).size > 0) {
    return { flags: [`-XX:SharedArchiveFile=${file}`], dumping: false, file, commit() {} };
  }
  fs.mkdirSync(dir, { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  return {
    flags: [`-XX:ArchiveClassesAtExit=${tmp}`],
    dumping: true,
    file,
    tmp,
    commit() {
      commitCds({ tmp, file });
    },
  };
}

/** Publishes a dumped archive (written by a JVM that exited normally). */
export function commitCds({ tmp, file }) {
  try {
    if (fs.existsSync(tmp) && fs.statSync(tmp).size > 0) fs.renameSync(tmp, file);
  } catch {
    // best effort
  }
  fs.rmSync(tmp, { force: true });
}
