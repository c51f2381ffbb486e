// Timestamps as Perl's scalar localtime prints them: `Thu Sep  9 12:00:00 2021`.

const cache = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string | undefined): Intl.DateTimeFormat {
  const key = timeZone ?? '';
  let format = cache.get(key);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'short',
      month: 'short',
      day: 'numeric',
      year: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    cache.set(key, format);
  }
  return format;
}

export function perlLocaltime(epochSeconds: number, timeZone?: string): string {
  const parts: Record<string, string> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(Math.floor(epochSeconds) * 1000))) {
    parts[part.type] = part.value;
  }
  return `${parts.weekday} ${parts.month} ${parts.day.padStart(2, ' ')} ${parts.hour}:${parts.minute}:${parts.second} ${parts.year}`;
}
