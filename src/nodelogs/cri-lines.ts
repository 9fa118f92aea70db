/**
 * Container logs on the node (/var/log/pods/<ns>_<pod>_<uid>/<container>/N.log and the
 * /var/log/containers/*.log links) are in the CRI format `<RFC3339Nano> <stdout|stderr> <P|F> <text>`:
 * the runtime splits a long line into P(artial) pieces ended by an F(ull) one. Joined here into one
 * line per record, keeping the first piece's time and the stream, so "stderr" stays visible.
 */
const CRI = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) (stdout|stderr) ([PF]) (.*)$/s;

export function looksLikeCri(lines: readonly string[]): boolean {
  let seen = 0;
  for (const l of lines.slice(0, 20)) if (CRI.test(l)) seen++;
  return seen > 0 && seen >= Math.min(lines.length, 20) / 2;
}

/** Joins P pieces with the F that ends them (per stream); other lines pass unchanged. */
export function joinCriPartials(lines: readonly string[]): string[] {
  const out: string[] = [];
  const open = new Map<string, { at: number; head: string; text: string }>();
  for (const line of lines) {
    const m = CRI.exec(line);
    if (!m) {
      out.push(line);
      continue;
    }
    const [, time, stream, tag, text] = m as unknown as [string, string, string, string, string];
    const pending = open.get(stream);
    if (tag === 'P') {
      if (pending) pending.text += text;
      else {
        open.set(stream, { at: out.length, head: `${time} ${stream} F `, text });
        out.push('');
      }
      continue;
    }
    if (pending) {
      out[pending.at] = pending.head + pending.text + text;
      open.delete(stream);
    } else out.push(line);
  }
  // A record still open at the end of the tail: show what arrived, marked as partial.
  for (const p of open.values()) out[p.at] = `${p.head.replace(/ F $/, ' P ')}${p.text}`;
  return out;
}
