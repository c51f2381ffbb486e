import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import {
  FenceConfigError,
  countFenceDevices,
  genArgStr,
  getFenceCommands,
  parseFenceConfig,
  shellQuote,
  shellWords,
  writeFenceConfig,
  type FenceConfig,
} from '../../src/config/fence-config.js';
import { REFERENCE_MISSING, REFERENCE_TESTS_DIR, referenceEntries } from './reference-data.js';
import { skipped } from '../prerequisites.js';

const NODES = ['node1', 'node2', 'node3'];

/** What test_fence_config.pl prints for a config file. */
function fenceReport(text: string, file: string): string {
  let config: FenceConfig;
  try {
    config = parseFenceConfig(text, file);
  } catch (err) {
    if (!(err instanceof FenceConfigError)) throw err;
    return `[FenceConfig] ${err.message.replace(/\n$/, '')}\n`;
  }
  let out = '';
  for (let attempt = 0; ; attempt++) {
    out += `[try] ${attempt}\n`;
    let anyCommand = false;
    for (const node of NODES) {
      const commands = getFenceCommands(node, attempt, config);
      if (!commands) {
        out += `[${node}-cmd] none\n`;
        continue;
      }
      anyCommand = true;
      for (const cmd of [...commands].sort((a, b) => Number(a.subDevice) - Number(b.subDevice))) {
        out += `[${node}-cmd] ${cmd.agent} ${genArgStr(cmd.params)}\n`;
      }
    }
    if (!anyCommand) return out;
  }
}

const cases = referenceEntries('fence_cfgs', (n) => n.endsWith('.cfg'));

describe('reference fence_cfgs', () => {
  if (REFERENCE_MISSING !== undefined) return skipped(REFERENCE_MISSING);
  it('has cases', () => {
    expect(cases.length).toBeGreaterThan(0);
  });

  it.each(cases)('%s matches its .expect byte for byte', (name) => {
    const dir = join(REFERENCE_TESTS_DIR, 'fence_cfgs');
    const text = readFileSync(join(dir, name), 'utf8');
    expect(fenceReport(text, `fence_cfgs/${name}`)).toBe(readFileSync(join(dir, `${name}.expect`), 'utf8'));
  });

  it.each(cases)('%s survives write and re-parse (the reference self check)', (name) => {
    const text = readFileSync(join(REFERENCE_TESTS_DIR, 'fence_cfgs', name), 'utf8');
    let config: FenceConfig;
    try {
      config = parseFenceConfig(text, name);
    } catch {
      return; // the reference skips the self check when the first parse fails
    }
    expect(parseFenceConfig(writeFenceConfig(config), name)).toEqual(config);
  });
});

describe('fence.cfg', () => {
  const text = [
    '# two devices',
    'device apc:1 fence_apc ip=10.0.0.1 "password=a b" ssh',
    'device apc:2 fence_apc ip=10.0.0.2 ssh',
    'connect apc:1 node=node1 plug=1',
    'connect apc:2 node=node1 plug=1',
    'device ipmi fence_ipmilan ip=10.0.0.9',
    'connect ipmi node=node2 plug=7',
    'connect ipmi node=node1 plug=3',
    '',
  ].join('\n');

  it('round-trips through the writer', () => {
    const config = parseFenceConfig(text);
    const written = writeFenceConfig(config);
    expect(written).toBe(
      [
        '',
        "device apc:1 fence_apc 'ip=10.0.0.1' 'password=a b' ssh",
        'connect apc:1 node=node1 plug=1',
        '',
        "device apc:2 fence_apc 'ip=10.0.0.2' ssh",
        'connect apc:2 node=node1 plug=1',
        '',
        "device ipmi:1 fence_ipmilan 'ip=10.0.0.9'",
        'connect ipmi:1 node=node1 plug=3',
        'connect ipmi:1 node=node2 plug=7',
        '',
      ].join('\n'),
    );
    expect(parseFenceConfig(written)).toEqual(config);
  });

  it('hands out devices in declaration order, parallel sub-devices together', () => {
    const config = parseFenceConfig(text);
    expect(getFenceCommands('node1', 0, config)).toEqual([
      { agent: 'fence_apc', subDevice: '1', params: ['ip=10.0.0.1', 'password=a b', 'ssh', 'plug=1'] },
      { agent: 'fence_apc', subDevice: '2', params: ['ip=10.0.0.2', 'ssh', 'plug=1'] },
    ]);
    expect(getFenceCommands('node1', 1, config)).toEqual([
      { agent: 'fence_ipmilan', subDevice: '1', params: ['ip=10.0.0.9', 'plug=3'] },
    ]);
    expect(getFenceCommands('node1', 2, config)).toBeUndefined();
    expect(getFenceCommands('node2', -3, config)?.[0].agent).toBe('fence_ipmilan');
    expect(getFenceCommands('node3', 0, config)).toBeUndefined();
  });

  it('counts devices per node, parallel ones once', () => {
    const config = parseFenceConfig(text);
    expect(countFenceDevices('node1', config)).toBe(2);
    expect(countFenceDevices('node2', config)).toBe(1);
    expect(countFenceDevices('node3', config)).toBe(0);
  });

  it('reports bad lines with their numbers and warns about unknown ones', () => {
    const warnings: string[] = [];
    expect(() =>
      parseFenceConfig('device a fence_x ip=1\nconnect b node=n1 x\nconnect a:2 node=n1 x\nfoo bar\nconnect a x=1 y\n', 'f.cfg', warnings),
    ).toThrow(
      "Encountered error(s) on parsing 'f.cfg':\n" +
        "line 2: device 'b' must be declared before you can connect to it\n" +
        "line 3: No parallel device 'a:2' found\n" +
        "line 5: node=nodename needed to connect device 'a' to node\n",
    );
    expect(warnings).toEqual(['f.cfg ignore line 4: foo bar']);
  });

  it('reads an empty file as no devices', () => {
    expect(parseFenceConfig('').size).toBe(0);
  });
});

describe('fence agent arguments', () => {
  it('splits like shellwords', () => {
    expect(shellWords(`a "b c" d\\ e 'f\\g' x"y"z`)).toEqual(['a', 'b c', 'd e', 'f\\g', 'xyz']);
    expect(shellWords('  lead and trail  ')).toEqual(['lead', 'and', 'trail']);
    expect(shellWords('password="12\\"345"')).toEqual(['password=12"345']);
    expect(shellWords('unbalanced "quote')).toEqual([]);
  });

  it('quotes like String::ShellQuote', () => {
    expect(shellQuote('plain-word_1.2:3/4')).toBe('plain-word_1.2:3/4');
    expect(shellQuote('')).toBe("''");
    expect(shellQuote('a=b')).toBe("'a=b'");
    expect(shellQuote('a b')).toBe("'a b'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote("''x")).toBe(`"''"'x'`);
  });

  it('builds short and long options', () => {
    expect(genArgStr(['x', 'p=1', 'ip=10.0.0.1', 'user=a b', 'flag', 'key=', 'ab=b=c', 'k=v=w'])).toBe(
      "-x -p 1 --ip=10.0.0.1 --user='a b' --flag --key --ab=b -k v",
    );
  });
});
