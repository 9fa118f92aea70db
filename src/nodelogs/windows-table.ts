/**
 * Windows answers are `Get-WinEvent … | Format-Table -AutoSize -Wrap`: one table per provider
 * ("ProviderName: X" heading), and -Wrap breaks a long or multi-line Message onto continuation lines
 * indented to the Message column (kubelet-node-log-query.md §4). Rows are put back together here, one
 * line per event, with the provider written in front of the message so it stays visible once the
 * headings are gone. Everything else (headings, PowerShell's error blocks) passes through unchanged.
 */
const HEADER = /^(TimeCreated\s+Id\s+LevelDisplayName\s+)Message\s*$/;
const PROVIDER = /^\s*ProviderName: (.+?)\s*$/;
const ROW = /^(\d{1,2}\/\d{1,2}\/\d{4} [\d:]+(?: [AP]M)?\s+\d+\s+\S+\s+)(.*)$/;

export async function* joinWrappedRows(body: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  let partial = '';
  let provider: string | undefined;
  let column = -1;
  let row: string | undefined;
  const flush = (): string => {
    const out = row === undefined ? '' : `${row}\n`;
    row = undefined;
    return out;
  };
  const take = (raw: string): string => {
    const line = raw.replace(/\r$/, '');
    const p = PROVIDER.exec(line);
    if (p) {
      provider = p[1]!.replace(/[^\w .@:-]/g, '?');
      return flush() + `${line}\n`;
    }
    const h = HEADER.exec(line);
    if (h) {
      column = h[1]!.length;
      return flush() + `${line}\n`;
    }
    if (row !== undefined && column > 0 && line.length > column && /^ +$/.test(line.slice(0, column)) && line[column] !== ' ') {
      row += ` ${line.slice(column)}`;
      return '';
    }
    const r = ROW.exec(line);
    if (r && column > 0) {
      const out = flush();
      row = provider ? `${r[1]}${provider}: ${r[2]}` : line;
      return out;
    }
    return flush() + `${line}\n`;
  };
  for await (const chunk of body) {
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop()!;
    let out = '';
    for (const p of parts) out += take(p);
    if (out) yield Buffer.from(out);
  }
  let out = partial ? take(partial) : '';
  out += flush();
  if (out) yield Buffer.from(out);
}
