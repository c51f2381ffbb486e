// fence.cfg: hardware fence devices and how each node is connected to them,
// e.g.
//
//   device power:1 fence_apc ip=192.168.1.10 username=fencing action=off
//   device power:2 fence_apc ip=192.168.1.11 username=fencing action=off
//   connect power:1 node=node1 plug=1
//   connect power:2 node=node1 plug=1
//
// A device name may carry `:<n>` to declare parallel sub-devices, all of
// which are used together. Devices are tried in the order declared. The
// error texts match the reference's (its tests compare them).

import type { NodeName } from '../core/types.js';

export interface FenceSubDevice {
  agent: string;
  args: string[];
  /** Extra arguments per connected node. */
  nodeArgs: Map<NodeName, string[]>;
}

export interface FenceDevice {
  priority: number;
  /** Keyed by sub-device number as written (`1` when none is given). */
  subDevices: Map<string, FenceSubDevice>;
}

export type FenceConfig = Map<string, FenceDevice>;

export interface FenceCommand {
  agent: string;
  subDevice: string;
  params: string[];
}

/** Thrown for a fence.cfg with errors; the message is the reference's. */
export class FenceConfigError extends Error {
  constructor(
    readonly file: string,
    readonly lineErrors: ReadonlyArray<{ line: number; message: string }>,
  ) {
    super(
      `Encountered error(s) on parsing '${file}':\n` + lineErrors.map((e) => `line ${e.line}: ${e.message}\n`).join(''),
    );
    this.name = 'FenceConfigError';
  }
}

const WORD_CHARS = 'A-Za-z0-9_';

/**
 * Splits a shell-like argument string the way Perl's shellwords does:
 * whitespace separated words, single and double quotes, backslash escapes
 * (not inside single quotes). An unbalanced quote yields no words at all.
 */
export function shellWords(input: string): string[] {
  let line = input.replace(/^\s+/, '');
  const words: Array<string | undefined> = [];
  let word: string | undefined;
  const piece = /^(?:"((?:[^\\"]*(?:\\[\s\S][^\\"]*)*))"|'((?:[^\\']*(?:\\[\s\S][^\\']*)*))'|((?:\\[\s\S]|[^\\"'])*?)($|\s+|(?!^)(?=["'])))/;
  while (line.length > 0) {
    const m = piece.exec(line);
    if (!m) return [];
    line = line.slice(m[0].length);
    const [, doubleQuoted, singleQuoted, unquoted, delimiter] = m;
    let text: string;
    if (doubleQuoted !== undefined) text = doubleQuoted.replace(/\\([\s\S])/g, '$1');
    else if (singleQuoted !== undefined) text = singleQuoted;
    else {
      if (unquoted === '' && (delimiter ?? '') === '') return [];
      text = unquoted.replace(/\\([\s\S])/g, '$1');
    }
    word = (word ?? '') + text;
    if (delimiter !== undefined && delimiter.length > 0) {
      words.push(word);
      word = undefined;
    }
    if (line.length === 0) words.push(word);
  }
  if (words.length > 0 && words[words.length - 1] === undefined) words.pop();
  return words.map((w) => w ?? '');
}

/** Quotes one argument for a POSIX shell like String::ShellQuote, leaving safe words bare. */
export function shellQuote(arg: string): string {
  if (arg === '') return "''";
  const s = arg.replace(/\0/g, '');
  if (!s.includes('=') && !new RegExp(`[^${WORD_CHARS}!%+,\\-./:=@^]`).test(s)) return s;
  let quoted = s.replace(/'/g, "'\\''");
  quoted = quoted.replace(/((?:'\\''){2,})/g, (run) => `'"${"'".repeat(run.length / 4)}"'`);
  quoted = `'${quoted}'`;
  return quoted.replace(/^''/, '').replace(/''$/, '');
}

/**
 * Parses fence.cfg. Throws a FenceConfigError listing every bad line.
 * Lines that are neither `device` nor `connect` are skipped and reported
 * in `warnings`, as the reference only warns about them.
 */
export function parseFenceConfig(text: string, file = 'fence.cfg', warnings: string[] = []): FenceConfig {
  const config: FenceConfig = new Map();
  if (text === '' || text === '0') return config;

  let priority = 0;
  const errors: Array<{ line: number; message: string }> = [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();

  lines.forEach((rawLine, index) => {
    const lineno = index + 1;
    const line = rawLine.replace(/^[ \t]+/, '').replace(/[ \t]+$/, '');
    if (line === '' || line === '0' || line.startsWith('#')) return;

    const m = /^(device|connect)\s+(\S+)\s+(\S+)\s+([^\n]+)$/.exec(line);
    if (!m) {
      warnings.push(`${file} ignore line ${lineno}: ${line}`);
      return;
    }
    const [, command, devSpec, target, argText] = m;
    const args = argText === '0' ? [] : shellWords(argText);

    let devName = devSpec;
    let devNumber = '1';
    const dm = new RegExp(`^([${WORD_CHARS}]+)(:(\\d+))?`).exec(devSpec);
    if (dm) {
      devName = dm[1];
      if (dm[3] !== undefined && dm[3] !== '0') devNumber = dm[3];
    }

    const fail = (message: string) => errors.push({ line: lineno, message });

    if (command === 'device') {
      const device = config.get(devName) ?? { priority: 0, subDevices: new Map<string, FenceSubDevice>() };
      if (device.subDevices.has(devNumber)) {
        fail(`device '${devName}:${devNumber}' already declared`);
        return;
      }
      device.subDevices.set(devNumber, { agent: target, args, nodeArgs: new Map() });
      // The reference assigns a priority whenever the device's is 0, which
      // renumbers the first device when it gets a second sub-device; kept
      // because the resulting order is the same.
      if (!device.priority) device.priority = priority++;
      config.set(devName, device);
      return;
    }

    const device = config.get(devName);
    if (device === undefined) {
      fail(`device '${devName}' must be declared before you can connect to it`);
      return;
    }
    const subDevice = device.subDevices.get(devNumber);
    if (subDevice === undefined) {
      fail(`No parallel device '${devName}:${devNumber}' found`);
      return;
    }
    const node = new RegExp(`node=([${WORD_CHARS}]+)`).exec(target)?.[1];
    if (node === undefined) {
      fail(`node=nodename needed to connect device '${devName}' to node`);
      return;
    }
    if (subDevice.nodeArgs.has(node)) {
      fail(`node '${node}' already connected to device '${devName}:${devNumber}'`);
      return;
    }
    subDevice.nodeArgs.set(node, args);
  });

  if (errors.length > 0) throw new FenceConfigError(file, errors);
  return config;
}

function byPriority(config: FenceConfig): Array<[string, FenceDevice]> {
  return [...config.entries()].sort((a, b) => a[1].priority - b[1].priority);
}

/** Sub-device numbers in the reference's order: as strings, not numerically. */
function subDeviceOrder(device: FenceDevice): string[] {
  return [...device.subDevices.keys()].sort();
}

/** Writes fence.cfg: devices by priority, each sub-device followed by its connections. */
export function writeFenceConfig(config: FenceConfig): string {
  let out = '';
  let previousPriority = -1;
  for (const [name, device] of byPriority(config)) {
    if (device.priority === previousPriority) {
      throw new Error(`Device '${name}' reuses priority! Priorities must be unique`);
    }
    previousPriority = device.priority;
    for (const number of subDeviceOrder(device)) {
      const sub = device.subDevices.get(number) as FenceSubDevice;
      out += `\ndevice ${name}:${number} ${sub.agent} ${sub.args.map(shellQuote).join(' ')}\n`;
      for (const node of [...sub.nodeArgs.keys()].sort()) {
        out += `connect ${name}:${number} node=${node} ${(sub.nodeArgs.get(node) ?? []).join(' ')}\n`;
      }
    }
  }
  return out;
}

/**
 * The commands to fence `node` at attempt `attempt` (0 first): the
 * `attempt`-th device by priority that `node` is connected to, one command
 * per connected sub-device. Undefined once the devices are exhausted.
 */
export function getFenceCommands(node: NodeName, attempt: number, config: FenceConfig): FenceCommand[] | undefined {
  if (!node) return undefined;
  let remaining = attempt > 0 ? attempt : 0;
  for (const [, device] of byPriority(config)) {
    const commands: FenceCommand[] = [];
    for (const number of subDeviceOrder(device)) {
      const sub = device.subDevices.get(number) as FenceSubDevice;
      const nodeArgs = sub.nodeArgs.get(node);
      if (nodeArgs !== undefined) commands.push({ agent: sub.agent, subDevice: number, params: [...sub.args, ...nodeArgs] });
    }
    if (commands.length > 0) {
      remaining--;
      if (remaining < 0) return commands;
    }
  }
  return undefined;
}

/**
 * Fence agent options from `key=value` / `key` arguments: one-letter keys as
 * `-k value`, longer ones as `--key=value`, values shell-quoted. Like the
 * reference, only the text up to a second '=' is kept as the value.
 */
export function genArgStr(args: readonly string[]): string {
  const out: string[] = [];
  for (const arg of args) {
    const fields = arg.split('=');
    while (fields.length > 0 && fields[fields.length - 1] === '') fields.pop();
    const key = fields[0] ?? '';
    const value = fields[1];
    if (new TextEncoder().encode(key).length === 1) {
      out.push(`-${key}`);
      if (value !== undefined) out.push(shellQuote(value));
    } else {
      out.push(value !== undefined ? `--${key}=${shellQuote(value)}` : `--${key}`);
    }
  }
  return out.join(' ');
}

/** How many devices `node` is connected to (parallel sub-devices count once). */
export function countFenceDevices(node: NodeName, config: FenceConfig): number {
  let count = 0;
  for (const device of config.values()) {
    for (const sub of device.subDevices.values()) {
      if (sub.nodeArgs.has(node)) {
        count++;
        break;
      }
    }
  }
  return count;
}
