// Figures a node publishes for the schedulers: its size and current use, and
// which of its guests run with what use. Each node's LRM daemon writes its
// own file (layout.ts nodeStatsPath); the master reads them all.

import { cpus, freemem, loadavg, totalmem } from 'node:os';

import type { NodeName, Sid } from '../../core/types.js';
import type { ServiceUsage } from '../env.js';

export interface GuestFigures {
  running: boolean;
  usage?: ServiceUsage;
}

export interface NodeFigures {
  /** Wall-clock seconds of the measurement. */
  time: number;
  maxcpu: number;
  maxmem: number;
  /** Cores in use. */
  cpu: number;
  /** Bytes in use. */
  mem: number;
  guests: Record<Sid, GuestFigures>;
}

/** The machine's own size and use: cores busy from the 1-minute load average, memory in use. */
export function measureHost(): Pick<NodeFigures, 'maxcpu' | 'maxmem' | 'cpu' | 'mem'> {
  const maxcpu = cpus().length;
  return {
    maxcpu,
    maxmem: totalmem(),
    cpu: Math.min(loadavg()[0], maxcpu),
    mem: totalmem() - freemem(),
  };
}

function finite(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : fallback;
}

/** Reads a published figures file; undefined when it is missing or unreadable (logged by the caller). */
export function parseNodeFigures(text: string | undefined): NodeFigures | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  const record = value as Record<string, unknown>;
  const guests: Record<Sid, GuestFigures> = {};
  const rawGuests = record.guests;
  if (rawGuests !== null && typeof rawGuests === 'object') {
    for (const [sid, raw] of Object.entries(rawGuests as Record<string, unknown>)) {
      if (raw === null || typeof raw !== 'object') continue;
      const guest = raw as Record<string, unknown>;
      const usage = guest.usage as ServiceUsage | undefined;
      guests[sid] = { running: guest.running === true, ...(usage && typeof usage === 'object' ? { usage } : {}) };
    }
  }
  return {
    time: finite(record.time, 0),
    maxcpu: Math.trunc(finite(record.maxcpu, 0)),
    maxmem: Math.trunc(finite(record.maxmem, 0)),
    cpu: finite(record.cpu, 0),
    mem: Math.trunc(finite(record.mem, 0)),
    guests,
  };
}

export function writeNodeFigures(figures: NodeFigures): string {
  return `${JSON.stringify(figures)}\n`;
}

export type FiguresByNode = Record<NodeName, NodeFigures>;
