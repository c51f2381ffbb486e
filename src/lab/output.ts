// What the lab prints: one line per event as it happens (text for people,
// or JSON lines with --json), and a result that is always the last line of
// stdout, one JSON object. Times are cluster seconds since the run started.

import type { LabEvent } from './cluster.js';

export interface Output {
  /** A line about the run itself (seed, schedule, where things are). */
  info(message: string, data?: Record<string, unknown>): void;
  event(atMs: number, event: LabEvent): void;
  /** The final line. */
  result(result: Record<string, unknown>): void;
}

export function describeEvent(event: LabEvent): string {
  switch (event.event) {
    case 'boot':
      return `${event.node} booted (boot ${event.boot})`;
    case 'reset':
      return `${event.node} reset (${event.cause}), boot ${event.boot} ends`;
    case 'daemon-exit':
      return `${event.node} ${event.daemon} ${event.exit}${event.restart ? ', restarted' : ''}`;
    case 'service':
      return `${event.sid} ${event.change} on ${event.node}`;
    case 'fault':
      return `fault ${event.kind}${event.target === undefined ? '' : ` ${event.target}`}: ${event.detail}`;
    case 'heal':
      return `healed ${event.kind} ${event.target}`;
    case 'note':
      return event.message;
    default: {
      const never: never = event;
      return never;
    }
  }
}

export function createOutput(json: boolean, write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): Output {
  return {
    info(message, data = {}) {
      write(json ? JSON.stringify({ info: message, ...data }) : `ha-lab: ${message}`);
    },
    event(atMs, event) {
      const t = Math.round(atMs) / 1000;
      write(json ? JSON.stringify({ t, ...event }) : `[${t.toFixed(1).padStart(8)} s] ${describeEvent(event)}`);
    },
    result(result) {
      write(JSON.stringify(result));
    },
  };
}
