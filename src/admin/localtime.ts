// Timestamps as Perl's scalar localtime prints them: `Thu Sep  9 12:00:00 2021`.
// In the process's own zone (and in UTC) the Date getters say it; only
// another named zone needs Intl, whose first use costs tens of milliseconds
// (`ha-manager status` would pay that on every call).

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const cache = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = cache.get(timeZone);
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
    cache.set(timeZone, format);
  }
  return format;
}

const two = (n: number): string => String(n).padStart(2, '0');

export function perlLocaltime(epochSeconds: number, timeZone?: string): string {
  const date = new Date(Math.floor(epochSeconds) * 1000);
  if (timeZone === undefined || timeZone === 'UTC') {
    const utc = timeZone === 'UTC';
    const day = utc ? date.getUTCDay() : date.getDay();
    const month = utc ? date.getUTCMonth() : date.getMonth();
    const dom = utc ? date.getUTCDate() : date.getDate();
    const time = utc
      ? [date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()]
      : [date.getHours(), date.getMinutes(), date.getSeconds()];
    const year = utc ? date.getUTCFullYear() : date.getFullYear();
    return `${DAYS[day]} ${MONTHS[month]} ${String(dom).padStart(2, ' ')} ${time.map(two).join(':')} ${year}`;
  }
  const parts: Record<string, string> = {};
  for (const part of formatter(timeZone).formatToParts(date)) parts[part.type] = part.value;
  return `${parts.weekday} ${parts.month} ${parts.day.padStart(2, ' ')} ${parts.hour}:${parts.minute}:${parts.second} ${parts.year}`;
}
