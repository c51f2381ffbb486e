// Prints, after the run, why tests were skipped: each suite that lacks a
// prerequisite registers a skipped test named `skipped: <reason>`
// (test/prerequisites.ts). The default reporter alone shows only a count.

import type { Reporter, TestModule } from 'vitest/node';

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
    if (reasons.size === 0 && others === 0) return;
    const lines = [...reasons].sort().map((line) => `  ${line}`);
    if (others > 0) lines.push(`  ${others} more skipped without a stated reason`);
    process.stdout.write(`\nSkipped, and why:\n${lines.join('\n')}\n`);
  }
}
