/** The journalctl command line the kubelet builds, parsed into what the in-process backend needs. */
export interface JournalQuery {
  since?: string;
  until?: string;
  /** -e/--pager-end: since systemd 250 it implies --boot (current boot) and, without -n, -n1000. */
  pagerEnd: boolean;
  lines?: number;
  units: string[];
  grep?: string;
  /** Set by --boot/-b; undefined offset means "current". */
  boot?: { offset: number };
  field?: string;
  output: string;
}

export type ParseResult = { ok: true; q: JournalQuery } | { ok: false; error: string };

function takeValue(args: string[], i: number, name: string): { value?: string; next: number } {
  const a = args[i]!;
  const eq = a.indexOf('=');
  if (a.startsWith('--') && eq > 0) return { value: a.slice(eq + 1), next: i };
  if (!a.startsWith('--') && a.length > 2) return { value: a.slice(2), next: i };
  if (i + 1 < args.length) return { value: args[i + 1]!, next: i + 1 };
  void name;
  return { next: i };
}

export function parseJournalctlArgs(args: string[]): ParseResult {
  const q: JournalQuery = { pagerEnd: false, units: [], output: 'short' };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const name = a.startsWith('--') ? a.split('=')[0]! : a.slice(0, 2);
    switch (name) {
      case '--utc':
      case '--no-pager':
      case '--no-hostname':
      case '-q':
      case '--quiet':
        break;
      case '-e':
      case '--pager-end':
        q.pagerEnd = true;
        if (q.lines === undefined) q.lines = 1000;
        q.boot ??= { offset: 0 };
        break;
      case '-o':
      case '--output': {
        const v = takeValue(args, i, name);
        if (v.value === undefined) return { ok: false, error: `journalctl: option '${name}' requires an argument` };
        q.output = v.value;
        i = v.next;
        break;
      }
      case '-S':
      case '--since':
      case '-U':
      case '--until': {
        const v = takeValue(args, i, name);
        if (v.value === undefined) return { ok: false, error: `journalctl: option '${name}' requires an argument` };
        if (name === '-S' || name === '--since') q.since = v.value;
        else q.until = v.value;
        i = v.next;
        break;
      }
      case '-n':
      case '--lines': {
        // Optional argument: only "--lines=N" or "-nN" carry one, as with getopt's "n::".
        const eq = a.indexOf('=');
        const raw = a.startsWith('--') ? (eq > 0 ? a.slice(eq + 1) : undefined) : a.length > 2 ? a.slice(2) : undefined;
        if (raw === undefined) { q.lines = 10; break; }
        if (raw === 'all') { q.lines = undefined; break; }
        if (!/^\d+$/.test(raw)) return { ok: false, error: `Failed to parse lines '${raw}'` };
        q.lines = Number(raw);
        break;
      }
      case '-u':
      case '--unit': {
        const v = takeValue(args, i, name);
        if (v.value === undefined) return { ok: false, error: `journalctl: option '${name}' requires an argument` };
        q.units.push(v.value);
        i = v.next;
        break;
      }
      case '-g':
      case '--grep': {
        const v = takeValue(args, i, name);
        if (v.value === undefined) return { ok: false, error: `journalctl: option '${name}' requires an argument` };
        q.grep = v.value;
        i = v.next;
        break;
      }
      case '-b':
      case '--boot': {
        // Optional argument; journalctl also takes the next word when it looks like a boot offset.
        const eq = a.indexOf('=');
        let raw = a.startsWith('--') ? (eq > 0 ? a.slice(eq + 1) : undefined) : a.length > 2 ? a.slice(2) : undefined;
        if (raw === undefined && i + 1 < args.length && (!args[i + 1]!.startsWith('-') || /^[+-]?\d+$/.test(args[i + 1]!))) {
          if (/^[+-]?\d+$/.test(args[i + 1]!)) raw = args[++i];
        }
        if (raw !== undefined && !/^[+-]?\d+$/.test(raw)) return { ok: false, error: `Failed to parse boot descriptor '${raw}'` };
        q.boot = { offset: raw === undefined ? 0 : Number(raw) };
        break;
      }
      case '-F':
      case '--field': {
        const v = takeValue(args, i, name);
        if (v.value === undefined) return { ok: false, error: `journalctl: option '${name}' requires an argument` };
        q.field = v.value;
        i = v.next;
        break;
      }
      default:
        return { ok: false, error: a.startsWith('--') ? `journalctl: unrecognized option '${a}'` : `journalctl: invalid option -- '${a.slice(1, 2)}'` };
    }
  }
  return { ok: true, q };
}
