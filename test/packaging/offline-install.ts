// Installs packed tarballs into a fresh folder without the registry: the
// folder gets a package-lock.json naming the tarballs and, for their
// dependencies, the exact versions and integrity hashes of the project's own
// lock, so npm takes every dependency from its cache (filled by `npm ci`)
// and resolves nothing. Our own packages come only from the tarballs.

import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface LockEntry {
  version?: string;
  dev?: boolean;
  optional?: boolean;
  devOptional?: boolean;
  [field: string]: unknown;
}

const MANIFEST_FIELDS = ['version', 'license', 'dependencies', 'optionalDependencies', 'bin', 'engines', 'os', 'cpu', 'libc'];

function manifestOf(tarball: string): Record<string, unknown> {
  return JSON.parse(execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' })) as Record<string, unknown>;
}

/**
 * Writes package.json and package-lock.json into `dir` for installing
 * `tarballs` with `npm ci --offline`; `projectLock` is the repository's
 * package-lock.json, whose production entries pin the dependencies.
 */
export function writeOfflineProject(dir: string, tarballs: readonly string[], projectLock: string): void {
  const lock = JSON.parse(readFileSync(projectLock, 'utf8')) as { packages: Record<string, LockEntry> };
  const packages: Record<string, unknown> = {};
  const dependencies: Record<string, string> = {};
  for (const tarball of tarballs) {
    const manifest = manifestOf(tarball);
    const name = String(manifest.name);
    dependencies[name] = `file:${tarball}`;
    const entry: Record<string, unknown> = { resolved: `file:${tarball}` };
    for (const field of MANIFEST_FIELDS) if (manifest[field] !== undefined) entry[field] = manifest[field];
    packages[`node_modules/${name}`] = entry;
  }
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === '' || entry.dev || entry.devOptional || packages[path] !== undefined) continue;
    packages[path] = entry;
  }
  const project = { name: 'ha-manager-install-check', version: '0.0.0', private: true, dependencies };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(project, null, 2)}\n`);
  const fullLock = { name: project.name, version: project.version, lockfileVersion: 3, requires: true, packages: { '': project, ...packages } };
  writeFileSync(join(dir, 'package-lock.json'), `${JSON.stringify(fullLock, null, 2)}\n`);
}
