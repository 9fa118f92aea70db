import { describe, expect, it } from 'vitest';
import { digestLines } from '../src/logs/pipeline.js';
import { createRedactor } from '../src/logs/redact.js';
import { buildSecretHints, mayNeedRedaction, PREFILTER_PARTS, secretHints } from '../src/logs/secret-hints.js';
import { mulberry32 } from '../src/sandbox/generate/prng.js';
import { secretCorpus } from './support/fault-secrets.js';

// The pipeline skips the redactor for lines in which the automaton finds no hint and passesUnchanged
// holds. The property that keeps that safe: whenever redactLine would change a line (or count a
// redaction), one of the two says so.
function skipped(line: string): boolean {
  return !mayNeedRedaction(line) && createRedactor().passesUnchanged(line);
}

function changedByRedactor(line: string): boolean {
  const r = createRedactor();
  return r.redactLine(line) !== line || Object.keys(r.counts).length > 0;
}

function rng(seed: number): () => number {
  return mulberry32(seed).next;
}
// Every keyword the prefilter lists, spelled out (one member of each class), in the forms logs use them.
function keywordSamples(): string[] {
  const out: string[] = [];
  for (const part of PREFILTER_PARTS) {
    // Take the first member of each class, drop optional atoms, and write \s as a space.
    const word = part
      .replace(/\[\^?(\\?.)[^\]]*\]/g, (_m, first: string) => (first === '\\s' ? ' ' : first.replace('\\', '')))
      .replace(/\.\?/g, '')
      .replace(/(.)\?/g, '');
    out.push(word, word + '=Zk9x88qPl0lWabc', `"${word}": "Zk9x-88qP-l0lW"`);
  }
  return out;
}

const HEADERS = ['', 'Nov 27 03:44:01.123456 node-a kubelet[2291]: I1127 03:44:01.123456    2291 x.go:1] ', '2026-11-27T03:44:01Z node-a app: ', 'E1127 03:44:01.1 1 a.go:2] '];
const NOISE = [' ', 'pod="kube-system/coredns-7d9f8b6c5-x2kq9"', 'id=3e0fc7f0a18c62c3e06845b117401ed21e63f05b039b185b64d4915df1c04784', 'http://10.0.0.1:8080/healthz', '@', '://', '.', 'k8s.io', 'é', '\u00a0', '\u200b', '\x1b[31m', '\t', 'curl', ' -u ', '--user=', 'bob:Zk9x88qPl0lW', 'abcdef.', '0123456789abcdef', '-----BEGIN', 'PRIVATE KEY-----', 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKjMzEfYyjiWA4', '=', ':', '"', "'", '-', '_'];

describe('secret hints (redaction prefilter fused into the mask scan)', () => {
  it('the automaton is small enough to build at first use', () => {
    const t0 = performance.now();
    const a = buildSecretHints();
    expect(a.states).toBeLessThan(1000);
    expect(performance.now() - t0).toBeLessThan(2000); // generous: only catches an exponential blow-up
    expect(secretHints().states).toBe(a.states);
  });

  it('never lets a line the redactor would change skip it: keywords, secrets and hidden characters in random lines', () => {
    const r = rng(20261130);
    const corpus = secretCorpus(7, 300);
    const pieces = [...keywordSamples(), ...corpus.lines, ...NOISE];
    let changed = 0;
    for (let i = 0; i < 20000; i++) {
      let line = HEADERS[Math.floor(r() * HEADERS.length)]!;
      const n = 1 + Math.floor(r() * 5);
      for (let k = 0; k < n; k++) {
        let p = pieces[Math.floor(r() * pieces.length)]!;
        if (r() < 0.2) p = r() < 0.5 ? p.toUpperCase() : p.toLowerCase();
        line += (r() < 0.5 ? ' ' : '') + p;
      }
      if (changedByRedactor(line)) {
        changed++;
        expect(skipped(line), line).toBe(false);
      }
    }
    expect(changed).toBeGreaterThan(2000);
  });

  it('covers every secret of the corpus and every keyword on its own', () => {
    let changed = 0;
    for (const line of secretCorpus(11, 400).lines) {
      if (!changedByRedactor(line)) continue;
      changed++;
      expect(skipped(line), line).toBe(false);
    }
    for (const w of keywordSamples()) {
      if (!changedByRedactor(`x ${w} y`)) continue;
      changed++;
      expect(skipped(`x ${w} y`), w).toBe(false);
    }
    expect(changed).toBeGreaterThan(200);
    for (const line of ['curl -u bob:Zk9x88qPl0lW http://10.0.0.1/', 'mirror https://robot:Pa55w0rdX@registry.example.com/v2/', 'kubeadm join --discovery k2x9qa.0c3fm1p8zr7w4d6y', 'a\u200bb', 'x\x07y']) {
      expect(changedByRedactor(line), line).toBe(true);
      expect(skipped(line), line).toBe(false);
    }
  });

  it('lets plain node log lines through without a hint', () => {
    const plain = [
      'Nov 27 03:44:01.123456 node-1 kubelet[2291]: I1127 03:44:01.123456    2291 kubelet.go:2455] "SyncLoop (PLEG): event for pod" pod="default/web-7d9f8b6c5-x2kq9"',
      'Nov 27 03:44:01.123456 node-1 containerd[812]: time="2026-11-27T03:44:01.123456789Z" level=info msg="shim disconnected" id=3e0fc7f0a18c namespace=k8s.io',
      'Nov 27 03:44:01.123456 node-1 kernel: IPv6: ADDRCONF(NETDEV_CHANGE): cali3f2a: link becomes ready',
    ];
    for (const line of plain) expect(skipped(line), line).toBe(true);
  });

  it('a secret in the header part of a line is redacted too (the hint scan starts at the line, not the message)', () => {
    const d = digestLines(['Nov 27 03:44:01.123456 password=hunter2xyz kubelet[2291]: started'], {});
    expect(JSON.stringify(d)).not.toContain('hunter2xyz');
    expect(d.redactions).toEqual({ 'key-value': 1 });
  });
});

describe('the mask scan steps the product automaton (lexicon × secret hints) exactly like each on its own', () => {
  it('agrees with mayNeedRedaction over the whole line and with a plain lexicon search over the message', async () => {
    const { maskTokens, lexiconScan, secretHint } = await import('../src/logs/mask.js');
    const { NODE_TROUBLE_LEXICON } = await import('../src/logs/severity.js');
    const r = rng(42);
    const corpus = secretCorpus(9, 200);
    const terms = NODE_TROUBLE_LEXICON.map((e) => e.term);
    const pieces = [...keywordSamples(), ...corpus.lines, ...NOISE, ...terms, ...terms.map((t) => t.slice(0, -1)), 'Killed', 'OOM', 'x5', '\u00e9x509', 'pass', 'é'];
    let hinted = 0;
    let hits = 0;
    for (let i = 0; i < 20000; i++) {
      const header = HEADERS[Math.floor(r() * HEADERS.length)]!;
      let line = header;
      const n = 1 + Math.floor(r() * 6);
      for (let k = 0; k < n; k++) line += (r() < 0.6 ? ' ' : '') + pieces[Math.floor(r() * pieces.length)]!;
      const start = header.length;
      maskTokens(line, start, undefined, undefined, undefined, 0);
      const message = line.slice(start);
      let expected = 0;
      for (const e of NODE_TROUBLE_LEXICON) if (message.includes(e.term)) expected = Math.max(expected, e.severity === 'error' ? 2 : 1);
      expect(lexiconScan.hit, line).toBe(expected);
      // The scan reads a space after the text; the hint automaton alone does not (only "-key" + end differs).
      expect(secretHint.found, line).toBe(mayNeedRedaction(line + ' '));
      if (secretHint.found) hinted++;
      if (expected) hits++;
    }
    expect(hinted).toBeGreaterThan(1000);
    expect(hits).toBeGreaterThan(1000);
  });
});
