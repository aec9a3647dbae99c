import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';

// A fresh PGlite data directory costs an initdb in WebAssembly: about 5 s of CPU, against about
// 1 s to unpack the same cluster from a tarball. Five services starting together on two cores
// spent most of their start-up there, so the first one made on this machine is kept as a
// template (per PGlite version and user) and later empty directories start from it.

function pgliteVersion(): string {
  try {
    // The package's exports hide package.json; its path is found from the entry point.
    const entry = require.resolve('@electric-sql/pglite');
    const pkg = JSON.parse(readFileSync(join(entry.slice(0, entry.lastIndexOf('node_modules') + 'node_modules'.length), '@electric-sql/pglite/package.json'), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return 'unknown';
  }
}

/** Where this machine's template of an empty PGlite cluster is kept. */
export function pgliteTemplatePath(): string {
  let user = 'user';
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (some containers): one shared name is fine.
  }
  return join(process.env.SEGMENTA_PGLITE_TEMPLATE_DIR ?? tmpdir(), `segmenta-pglite-${pgliteVersion()}-${user}.tar`);
}

/** True when `dataDir` holds no cluster yet (PGlite would run initdb there). */
export function isEmptyPgliteDir(dataDir: string): boolean {
  return !existsSync(join(dataDir, 'PG_VERSION'));
}

/** The template's tarball, when one exists and can be read. */
export function readPgliteTemplate(): Blob | undefined {
  const path = pgliteTemplatePath();
  try {
    return existsSync(path) ? new Blob([readFileSync(path)]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Makes the template once (an initdb in memory, dumped as an uncompressed tarball) unless it is
 * already there. Written to a temporary name and renamed, so a concurrent reader never sees half
 * a file. Returns its path.
 */
export async function ensurePgliteTemplate(): Promise<string> {
  const path = pgliteTemplatePath();
  if (existsSync(path)) return path;
  const pglite = new PGlite();
  try {
    await pglite.waitReady;
    const dump = await pglite.dumpDataDir('none');
    const partial = `${path}.${process.pid}.partial`;
    writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
    renameSync(partial, path);
  } finally {
    await pglite.close();
  }
  return path;
}
