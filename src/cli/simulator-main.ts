// Process entry of ha-simulator: binds the environment once (the scoring
// kernel: the addon's when it loads) and maps the outcome to the exit status.

import { nativeScoringKernel } from '../native/scoring-kernel.js';
import { main } from './simulator.js';

export async function start(): Promise<void> {
  try {
    process.exitCode = await main(process.argv, nativeScoringKernel());
  } catch (err) {
    process.stderr.write(`ha-simulator: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  }
}
