// A unified diff of two texts (Myers' O(ND) algorithm), for showing how a
// simulation log differs from its expected log.

type Edit = { kind: 'same' | 'del' | 'add'; line: string };

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function editScript(a: readonly string[], b: readonly string[]): Edit[] {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const offset = max;
  let v: Int32Array = new Int32Array(2 * max + 2);
  const trace: Int32Array[] = [];
  outer: for (let d = 0; d <= max; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x: number;
      if (k === -d || (k !== d && v[offset + k - 1] < v[offset + k + 1])) x = v[offset + k + 1];
      else x = v[offset + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        trace.push(v.slice());
        break outer;
      }
    }
  }

  const edits: Edit[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 2; d >= 0 && (x > 0 || y > 0); d--) {
    v = trace[d];
    const k = x - y;
    let prevK: number;
    if (k === -d || (k !== d && v[offset + k - 1] < v[offset + k + 1])) prevK = k + 1;
    else prevK = k - 1;
    const prevX = v[offset + prevK];
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      edits.push({ kind: 'same', line: a[x - 1] });
      x--;
      y--;
    }
    if (d > 0) {
      if (x === prevX) edits.push({ kind: 'add', line: b[y - 1] });
      else edits.push({ kind: 'del', line: a[x - 1] });
    }
    x = prevX;
    y = prevY;
  }
  while (x > 0 && y > 0) {
    edits.push({ kind: 'same', line: a[x - 1] });
    x--;
    y--;
  }
  return edits.reverse();
}

/** `diff -u` style output; empty when the texts are equal. */
export function unifiedDiff(expected: string, actual: string, expectedName: string, actualName: string, context = 3): string {
  if (expected === actual) return '';
  const a = splitLines(expected);
  const b = splitLines(actual);
  const edits = editScript(a, b);

  const out: string[] = [`--- ${expectedName}`, `+++ ${actualName}`];
  let i = 0;
  while (i < edits.length) {
    if (edits[i].kind === 'same') {
      i++;
      continue;
    }
    let start = Math.max(0, i - context);
    let end = i;
    // extend the hunk while changes are within 2*context of each other
    for (;;) {
      while (end < edits.length && edits[end].kind !== 'same') end++;
      let next = end;
      while (next < edits.length && edits[next].kind === 'same') next++;
      if (next < edits.length && next - end <= 2 * context) end = next;
      else break;
    }
    const stop = Math.min(edits.length, end + context);
    let aStart = 0;
    let bStart = 0;
    for (let j = 0; j < start; j++) {
      if (edits[j].kind !== 'add') aStart++;
      if (edits[j].kind !== 'del') bStart++;
    }
    let aLen = 0;
    let bLen = 0;
    const body: string[] = [];
    for (let j = start; j < stop; j++) {
      const e = edits[j];
      if (e.kind === 'same') {
        body.push(` ${e.line}`);
        aLen++;
        bLen++;
      } else if (e.kind === 'del') {
        body.push(`-${e.line}`);
        aLen++;
      } else {
        body.push(`+${e.line}`);
        bLen++;
      }
    }
    out.push(`@@ -${aLen ? aStart + 1 : aStart},${aLen} +${bLen ? bStart + 1 : bStart},${bLen} @@`, ...body);
    i = stop;
    start = stop;
  }
  return `${out.join('\n')}\n`;
}
