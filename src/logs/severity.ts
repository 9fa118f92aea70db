/** Severity of one log line, from the most explicit signal the line carries. */

export type Severity = 'fatal' | 'error' | 'warning' | 'info' | 'debug' | 'unknown';

export const SEVERITIES: readonly Severity[] = ['fatal', 'error', 'warning', 'info', 'debug', 'unknown'];

/** Lower is more severe; used for ranking and for "worst severity seen" per template. */
export const SEVERITY_RANK: Record<Severity, number> = { fatal: 0, error: 1, warning: 2, info: 3, debug: 4, unknown: 5 };

export function emptySeverityCounts(): Record<Severity, number> {
  return { fatal: 0, error: 0, warning: 0, info: 0, debug: 0, unknown: 0 };
}

/** Level words as logfmt, JSON, syslog priorities, Java/Python loggers and Windows event levels spell them. */
export function severityFromWord(word: string): Severity | undefined {
  switch (word.toLowerCase()) {
    case 'fatal': case 'panic': case 'crit': case 'critical': case 'emerg': case 'emergency': case 'alert': case 'severe': case 'dpanic':
      return 'fatal';
    case 'error': case 'err': case 'eror': case 'fail': case 'failure':
      return 'error';
    case 'warn': case 'warning': case 'wrn':
      return 'warning';
    case 'info': case 'information': case 'notice': case 'informational': case 'inf':
      return 'info';
    case 'debug': case 'trace': case 'verbose': case 'dbg': case 'fine': case 'finer': case 'finest': case 'config':
      return 'debug';
    default:
      return undefined;
  }
}

/**
 * What a node troubleshooter looks for first: text that means trouble whatever level the writer gave
 * it (the kubelet logs evictions and the kernel logs OOM kills at info). One list for the pipeline's
 * severity, answer ranking and the systemd crash-loop reading; each term is matched case-sensitively
 * as written (variants are separate terms).
 */
export const NODE_TROUBLE_LEXICON: readonly { term: string; severity: 'warning' | 'error'; means: string }[] = [
  { term: 'OOMKilled', severity: 'error', means: 'container killed by the OOM killer' },
  { term: 'exitCode=137', severity: 'error', means: 'process killed by SIGKILL (often OOM)' },
  { term: 'exit code 137', severity: 'error', means: 'process killed by SIGKILL (often OOM)' },
  { term: 'Killed process', severity: 'error', means: 'kernel OOM killer killed a process' },
  { term: 'Out of memory', severity: 'error', means: 'kernel or cgroup out of memory' },
  { term: 'OutOfMemoryError', severity: 'error', means: 'JVM out of memory' },
  { term: 'oom-kill', severity: 'error', means: 'kernel OOM kill event' },
  { term: 'became not ready', severity: 'warning', means: 'node or endpoint lost readiness' },
  { term: 'NodeNotReady', severity: 'warning', means: 'node reported not ready' },
  { term: 'PLEG is not healthy', severity: 'warning', means: 'kubelet pod lifecycle event generator stalled (runtime slow or hung)' },
  { term: 'Evict', severity: 'warning', means: 'pod eviction (resource pressure)' },
  { term: 'evict', severity: 'warning', means: 'pod eviction (resource pressure)' },
  { term: 'x509', severity: 'error', means: 'TLS certificate problem' },
  { term: 'certificate has expired', severity: 'error', means: 'expired TLS certificate' },
  { term: 'panic:', severity: 'error', means: 'Go program crashed' },
  { term: 'SIGSEGV', severity: 'error', means: 'segmentation fault' },
  { term: 'segfault', severity: 'error', means: 'segmentation fault' },
  { term: 'Main process exited', severity: 'warning', means: 'systemd service main process exited' },
  { term: 'restart counter is at', severity: 'warning', means: 'systemd service restarting (crash loop)' },
  { term: 'Failed with result', severity: 'error', means: 'systemd service failed' },
];

const LEXICON_RE = new RegExp(NODE_TROUBLE_LEXICON.map((e) => e.term.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'));
const LEXICON_BY_TERM = new Map(NODE_TROUBLE_LEXICON.map((e) => [e.term, e]));

/** The first lexicon term in `text`, with its severity; undefined when there is none. */
export function troubleTerm(text: string): { term: string; severity: 'warning' | 'error'; means: string } | undefined {
  const m = LEXICON_RE.exec(text);
  return m ? LEXICON_BY_TERM.get(m[0]) : undefined;
}

/**
 * The lexicon as an Aho-Corasick automaton over ASCII, so a scanner that already walks every character of
 * a message (the mask tokenizer) finds the terms in the same pass: state = delta[state * 128 + char];
 * hit[state] is 2 when an error term ends there, 1 for a warning term, else 0. A non-ASCII character
 * restarts at the root (no term contains one).
 */
export const LEXICON_AUTOMATON = buildAutomaton();

function buildAutomaton(): { delta: Int16Array; hit: Uint8Array } {
  const goto: Map<number, number>[] = [new Map()];
  const out: number[] = [0];
  for (const e of NODE_TROUBLE_LEXICON) {
    let st = 0;
    for (const ch of e.term) {
      const c = ch.charCodeAt(0);
      let next = goto[st]!.get(c);
      if (next === undefined) {
        next = goto.length;
        goto.push(new Map());
        out.push(0);
        goto[st]!.set(c, next);
      }
      st = next;
    }
    out[st] = Math.max(out[st]!, e.severity === 'error' ? 2 : 1);
  }
  const n = goto.length;
  const delta = new Int16Array(n * 128);
  const fail = new Int32Array(n);
  const queue: number[] = [];
  for (let c = 0; c < 128; c++) {
    const next = goto[0]!.get(c);
    delta[c] = next ?? 0;
    if (next !== undefined) queue.push(next);
  }
  for (let q = 0; q < queue.length; q++) {
    const st = queue[q]!;
    out[st] = Math.max(out[st]!, out[fail[st]!]!);
    for (let c = 0; c < 128; c++) {
      const next = goto[st]!.get(c);
      if (next !== undefined) {
        fail[next] = delta[fail[st]! * 128 + c]!;
        delta[st * 128 + c] = next;
        queue.push(next);
      } else delta[st * 128 + c] = delta[fail[st]! * 128 + c]!;
    }
  }
  return { delta, hit: Uint8Array.from(out) };
}

/** `sev` raised by an automaton hit (2 error, 1 warning); never lowered. */
export function liftByHit(sev: Severity, hit: number): Severity {
  if (hit === 2) return SEVERITY_RANK[sev] > 1 ? 'error' : sev;
  if (hit === 1) return SEVERITY_RANK[sev] > 2 ? 'warning' : sev;
  return sev;
}

/** `sev`, raised to the lexicon's severity when `text` holds a trouble term (never lowered). */
export function liftSeverity(sev: Severity, text: string): Severity {
  const t = troubleTerm(text);
  if (!t) return sev;
  return SEVERITY_RANK[t.severity] < SEVERITY_RANK[sev] ? t.severity : sev;
}

// Bracketed or prefixed priority words: "[ERROR]", "ERROR:", "<warn>".
const PRIORITY_WORD = /(?:^|[\s[<(])(EMERG|ALERT|CRIT|CRITICAL|FATAL|PANIC|ERROR|ERR|WARN|WARNING|NOTICE|INFO|DEBUG|TRACE)(?:[\]>):]|\s)/;
const LEVEL_FIELD = /\b(?:level|lvl|severity)=["']?([A-Za-z]+)|"(?:level|lvl|severity)"\s*:\s*"([A-Za-z]+)"/;
const RESTARTING = /restart counter is at \d+/;
const KEYWORDS =
  /\b(panic|fatal|oom|out of memory|oops|segfault|error|errors|failed|failure|fail|timeout|timed out|refused|denied|unable|cannot|could not|exception|killed|warn|warning|deprecated)\b/i;

/**
 * Severity of a message: the level its header gave (klog letter, level word, level field, JSON level),
 * else a level field or priority word inside it, else keywords; then lifted by the trouble lexicon.
 */
export function detectSeverity(message: string, headerLevel?: Severity): Severity {
  return liftSeverity(headerLevel ?? severityFromText(message), message);
}

/** Severity from the header level or the message's own words, before the lexicon. */
export function severityFromText(message: string): Severity {
  if (message.includes('level') || message.includes('severity') || message.includes('lvl')) {
    const m = LEVEL_FIELD.exec(message);
    if (m) {
      const s = severityFromWord(m[1] ?? m[2] ?? '');
      if (s) return s;
    }
  }
  const p = PRIORITY_WORD.exec(message);
  if (p) {
    const s = severityFromWord(p[1]!);
    if (s) return s;
  }
  const k = KEYWORDS.exec(message);
  // systemd restarting a unit that keeps exiting (a crash loop) says so without any trouble word.
  if (!k) return RESTARTING.test(message) ? 'warning' : 'unknown';
  const w = k[1]!.toLowerCase();
  if (w === 'panic' || w === 'fatal' || w === 'oops') return 'fatal';
  if (w === 'warn' || w === 'warning' || w === 'deprecated') return 'warning';
  return 'error';
}
