// What the ha-manager command line runs against: everything the service
// layer needs (src/admin/context.ts), plus the terminal and the output
// streams. The process entry binds the real ones; tests bind a memory
// store, a fixed clock and string buffers.

import type { AdminContext } from '../../admin/context.js';

export interface TerminalOptions {
  /** Draw table borders with box-drawing characters (the locale is UTF-8). */
  utf8: boolean;
  /** Cut table lines to this width (stdout is a terminal of this width). */
  columns?: number;
}

export interface CliContext extends Omit<AdminContext, 'warn' | 'actor'> {
  terminal: TerminalOptions;
  stdout(text: string): void;
  stderr(text: string): void;
  /** The process id named to those waiting for the HA config lock (default: this process). */
  pid?: number;
}
