// The simulator's log line, in the reference's exact format:
// `%-5s %5d %12s: <message>` — level cut to four letters (daemons only),
// right-aligned time and source, the message with one trailing newline removed.

function padEnd(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

function padStart(text: string, width: number): string {
  return text.length >= width ? text : ' '.repeat(width - text.length) + text;
}

function chomp(text: string): string {
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}

export function formatLogLine(level: string, time: number, source: string, msg: string): string {
  return `${padEnd(level, 5)} ${padStart(String(Math.trunc(time)), 5)} ${padStart(source, 12)}: ${chomp(msg)}\n`;
}

/** A daemon's line: the level is shortened to its first four characters. */
export function formatDaemonLogLine(level: string, time: number, source: string, msg: string): string {
  return formatLogLine(level.slice(0, 4), time, source, msg);
}
