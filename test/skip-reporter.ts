// Prints, after the run, why tests were skipped: each suite that lacks a
// prerequisite registers a skipped test named `skipped: <reason>`
// (test/prerequisites.ts). The default reporter alone shows only a count.
// The Rust tests run before vitest (scripts/test-cargo.mjs) and are skipped
// without cargo; that is repeated here so the end of `npm test` says it.

import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

import type { Reporter, TestModule } from 'vitest/node';

function cargoOnPath(): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, 'cargo'), constants.X_OK);
      return dir !== '';
    } catch {
      return false;
    }
  });
}

export default class SkipReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const reasons = new Set<string>();
    let others = 0;
    for (const module of modules) {
      for (const test of module.children.allTests()) {
        if (test.result().state !== 'skipped') continue;
        const reason = /skipped: (.*)$/.exec(test.name)?.[1];
        if (reason === undefined) others++;
        else reasons.add(`${module.relativeModuleId}: ${reason}`);
      }
    }
    const lines = [...reasons].sort().map((line) => `  ${line}`);
    if (!cargoOnPath()) lines.unshift('  cargo test (npm run test:cargo): cargo is not on PATH');
    if (others > 0) lines.push(`  ${others} more skipped without a stated reason (it.skip, or a -t filter)`);
    if (lines.length > 0) process.stdout.write(`\nSkipped, and why:\n${lines.join('\n')}\n`);
  }
}
