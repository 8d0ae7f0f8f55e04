/**
 * STYLE §1: kernels/ (our algebra) imports only kernels/, errors.ts and the FFT packages. This
 * reads every .ts file under src/kernels/ and checks each import, export-from, dynamic import()
 * and require() specifier, so the leak NengoSPA has (hrr_algebra.py importing the neural
 * CircularConvolution) cannot creep in here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const KERNELS = join(ROOT, 'src', 'kernels');
const ERRORS = join(ROOT, 'src', 'errors.ts');
const PACKAGES = new Set(['fft.js', '@echogarden/pffft-wasm']);

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    if (d.isDirectory()) return tsFiles(p);
    return d.name.endsWith('.ts') ? [p] : [];
  });
}

/** Every module specifier in a TypeScript source (comments stripped first). */
function specifiers(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const out: string[] = [];
  const patterns = [
    /\bimport\s+(?:type\s+)?[\w*{}\s,$]*?\s*from\s*['"]([^'"]+)['"]/g, // import x from '…'
    /\bexport\s+(?:type\s+)?(?:\*(?:\s+as\s+\w+)?|\{[^}]*\})\s*from\s*['"]([^'"]+)['"]/g, // export … from '…'
    /\bimport\s*['"]([^'"]+)['"]/g, // import '…' (side effect)
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g, // import('…')
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g, // require('…')
  ];
  for (const re of patterns) for (const m of code.matchAll(re)) out.push(m[1]);
  return out;
}

/** The package name of a bare specifier: '@scope/name/sub' → '@scope/name', 'fft.js' → 'fft.js'. */
function packageName(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Why a specifier from `file` is not allowed, or null when it is. */
function violation(file: string, spec: string): string | null {
  if (spec.startsWith('.')) {
    const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
    if (target === ERRORS) return null;
    if (target.startsWith(KERNELS + sep)) return null;
    return `reaches ${relative(ROOT, target)}`;
  }
  if (PACKAGES.has(packageName(spec))) return null;
  return `imports package '${spec}'`;
}

describe('src/kernels imports (STYLE §1)', () => {
  const files = tsFiles(KERNELS);

  it('finds the kernel sources', () => {
    const names = files.map((f) => relative(KERNELS, f).split(sep).join('/'));
    for (const f of ['index.ts', 'fft/engine.ts', 'fft/pffft.ts', 'fft/fftjs.ts', 'hrr/bind.ts', 'hrr/role.ts']) {
      expect(names).toContain(f);
    }
  });

  it('the specifier scanner sees every import form', () => {
    const src = [
      "import FFT from 'fft.js';",
      "import type { A } from './a.js';",
      "import PFFFT, { type M } from '@echogarden/pffft-wasm/simd';",
      "export { x, y as z } from '../errors.js';",
      "export * from './b.js';",
      "import 'side-effect';",
      "const m = await import('node:fs');",
      "// import x from 'commented-out';",
      "/* import y from 'block-comment'; */",
    ].join('\n');
    expect(specifiers(src).sort()).toEqual(
      ['fft.js', './a.js', '@echogarden/pffft-wasm/simd', '../errors.js', './b.js', 'side-effect', 'node:fs'].sort(),
    );
    expect(violation(join(KERNELS, 'hrr', 'x.ts'), '../../memory/tenant.js')).toBe('reaches src/memory/tenant.ts');
    expect(violation(join(KERNELS, 'hrr', 'x.ts'), 'node:fs')).toMatch(/node:fs/);
    expect(violation(join(KERNELS, 'hrr', 'x.ts'), '../../errors.js')).toBeNull();
  });

  it('every import reaches only src/kernels/**, src/errors.ts, fft.js or @echogarden/pffft-wasm', () => {
    const bad: string[] = [];
    for (const file of files) {
      for (const spec of specifiers(readFileSync(file, 'utf8'))) {
        const why = violation(file, spec);
        if (why) bad.push(`${relative(ROOT, file)}: '${spec}' ${why}`);
      }
    }
    expect(bad).toEqual([]);
  });
});
