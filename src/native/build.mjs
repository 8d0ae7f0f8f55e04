// Builds dist/native/huge-pages.node from huge-pages.c (one file, Node-API, no dependency) with
// the system C compiler ($CC, else cc) against the headers of the node running this script.
// Optional: without a compiler or headers (or off Linux) it says so and the server runs without
// huge pages (huge-pages.ts reports why). node-gyp would need the headers downloaded (or
// --nodedir) and Python for this one file; cc with Node's own include directory does the same.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const out = join(root, 'dist/native/huge-pages.node');
const include = join(dirname(process.execPath), '..', 'include', 'node');
const skip = (why) => {
  rmSync(out, { force: true });
  console.warn(`huge pages: ${why}; dist/native/huge-pages.node not built, slabs will use 4 KiB pages (docs/MEMORY.md "Huge pages")`);
};

if (process.platform !== 'linux') skip(`madvise(MADV_HUGEPAGE) is Linux's; this is ${process.platform}`);
else if (!existsSync(join(include, 'node_api.h'))) skip(`no Node-API headers at ${include}`);
else {
  mkdirSync(dirname(out), { recursive: true });
  const cc = process.env.CC || 'cc';
  const r = spawnSync(cc, ['-O2', '-Wall', '-shared', '-fPIC', `-I${include}`, '-o', out, join(root, 'src/native/huge-pages.c')], { encoding: 'utf8' });
  if (r.error) skip(`${cc}: ${r.error.message}`);
  else if (r.status !== 0) skip(`${cc} failed:\n${r.stderr}`);
}
