// src/core must stay pure: no file system, clock, timers, processes,
// randomness or native addon; it reaches the world only through HaEnv. This
// test reads every core module and the modules it imports from outside
// src/core, and fails on anything that would break that.

import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

import { describe, expect, it } from 'vitest';

import { REPO_ROOT } from '../simulator/scenario-dirs.js';

const CORE = join(REPO_ROOT, 'src/core');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

interface Import {
  specifier: string;
  typeOnly: boolean;
}

function importsOf(source: string): Import[] {
  const found: Import[] = [];
  const re = /^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+['"]([^'"]+)['"]/gm;
  for (let match = re.exec(source); match !== null; match = re.exec(source)) {
    found.push({ specifier: match[3], typeOnly: match[2] !== undefined });
  }
  const bare = /^\s*import\s+['"]([^'"]+)['"]/gm;
  for (let match = bare.exec(source); match !== null; match = bare.exec(source)) {
    found.push({ specifier: match[1], typeOnly: false });
  }
  return found;
}

/** Globals that mean I/O, time or chance. */
const FORBIDDEN_GLOBALS = [
  /\bDate\.now\b/,
  /\bnew Date\b/,
  /\bsetTimeout\b/,
  /\bsetInterval\b/,
  /\bsetImmediate\b/,
  /(?<![.\w])process\./,
  /\bMath\.random\b/,
  /\bperformance\.now\b/,
  /\brequire\(/,
];

function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

/** Every module src/core runs: its own files and what they import from elsewhere. */
function coreClosure(): string[] {
  const seen = new Set<string>();
  const queue = sourceFiles(CORE);
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const { specifier, typeOnly } of importsOf(readFileSync(file, 'utf8'))) {
      if (typeOnly || !specifier.startsWith('.')) continue;
      queue.push(resolve(dirname(file), specifier).replace(/\.js$/, '.ts'));
    }
  }
  return [...seen].sort();
}

describe('src/core purity', () => {
  const files = coreClosure();

  it('finds the core modules', () => {
    expect(files.length).toBeGreaterThan(20);
  });

  it.each(files.map((file) => [relative(REPO_ROOT, file), file]))('%s imports nothing impure', (_name, file) => {
    for (const { specifier, typeOnly } of importsOf(readFileSync(file, 'utf8'))) {
      if (typeOnly) continue;
      expect(specifier.startsWith('.'), `${specifier}: only relative imports of pure modules`).toBe(true);
      const target = resolve(dirname(file), specifier);
      expect(target.startsWith(join(REPO_ROOT, 'src/native')), `${specifier}: the native addon`).toBe(false);
      expect(target.startsWith(join(REPO_ROOT, 'src/env')), `${specifier}: an environment (type imports only)`).toBe(false);
      expect(target.startsWith(join(REPO_ROOT, 'src/cli')), `${specifier}: the CLI`).toBe(false);
    }
  });

  it.each(files.map((file) => [relative(REPO_ROOT, file), file]))('%s uses no clock, timer, process or randomness', (_name, file) => {
    const code = stripComments(readFileSync(file, 'utf8'));
    for (const pattern of FORBIDDEN_GLOBALS) expect(code, `${pattern}`).not.toMatch(pattern);
  });
});
