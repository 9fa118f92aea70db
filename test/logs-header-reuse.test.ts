/**
 * The header scanner reuses what it read on earlier lines (the last second of a timestamp, the last
 * "host ident[pid]: " runs, the line's tab lookup). Whatever came before, a line must read exactly as
 * it does in a fresh scanner: each line here is scanned after every primer and compared with a fresh
 * module instance's reading.
 */
import { describe, expect, it, vi } from 'vitest';

type HeaderModule = typeof import('../src/logs/header.js');

async function freshHeaderModule(): Promise<HeaderModule> {
  vi.resetModules();
  return import('../src/logs/header.js');
}

function reading(m: HeaderModule, line: string): unknown {
  const h = new m.Header();
  m.scanHeader(line, h, 2026);
  return [h.time, h.ident, h.level, h.messageStart, h.bodyStart, h.stream, h.partial, h.jsonMessage, h.found];
}

// Lines that share a prefix with one another up to the seconds, the host and identifier, or neither.
const LINES = [
  'Nov 30 13:30:33.595330 node-1 kubelet[2291]: I1130 13:30:33.595330    2291 kubelet.go:2455] "SyncLoop"',
  'Nov 30 13:30:33.7 node-1 kubelet[2291]: W1130 13:30:33.700000    2291 kubelet.go:2455] "other fraction"',
  'Nov 30 13:30:33 node-1 kubelet[2291]: E1130 13:30:33.000000    2291 kubelet.go:1] "no fraction"',
  'Nov 30 13:30:33 PM node-1 kubelet[2291]: x',
  'Nov 30 13:30:33 2025 node-1 kubelet[2291]: ctime year',
  'Nov 30 13:30:33Z node-1 kubelet[2291]: zone',
  'Nov 30 13:30:3',
  'Nov 30 13:30:33',
  'Nov 30 13:30:33 ',
  'Nov 30 13:30:33.595330 node-1 kubelet[2291]:',
  'Nov 30 13:30:33.595330 node-1 kubelet[2291]: ',
  'Nov 30 13:30:33.595330 node-1 kubelet[2291]:\tI1130 13:30:33.595330\t2291 kubelet.go:2455] tabbed',
  'Nov 30 13:30:33.595330 node-1 kubelet[2292]: I1130 13:30:33.595330    2292 kubelet.go:2455] other pid',
  'Nov 30 13:30:33.595330 node-2 kubelet[2291]: I1130 13:30:33.595330    2291 kubelet.go:2455] other host',
  'Nov 30 13:30:33.595330 node-1 kubelet[WARN]: level in brackets',
  'Nov 30 13:30:33.595330 node-1 kube-proxy[3377]: I1130 13:30:33.652182    3377 proxier.go:805] "SyncProxyRules"',
  'Nov 30 13:30:33.784549 node-1 containerd[812]: time="2026-11-30T13:30:33.784549582Z" level=info msg="StartContainer"',
  'Nov 30 13:30:33.784549 node-1 containerd[812]: time="2026-11-30T13:30:33+05:30" level=warning msg="zone"',
  'Nov 30 13:30:33.784549 node-1 containerd[812]: time="2026-11-30T13:30:3" level=info msg="cut"',
  'Nov 30 13:30:33.784549 node-1 containerd[812]: time="2026-11-30 13:30:33,123" level=error msg="comma"',
  '2026-11-30T13:30:33.784549582Z stdout F 2026-11-30T13:30:33.1Z INFO inner',
  '2026-11-30T13:30:33 something',
  '2026-11-30T13:30:3',
  '2026-11-30T13:30:33.5 stderr P partial',
  'Nov 30 13:30:34.000001 node-1 kernel: IPv6: ADDRCONF(NETDEV_CHANGE): cali51fc1a09bae: link becomes ready',
  'Tue Nov 30 13:30:33 2026 ctime line',
  'level=error msg="no time"',
];

describe('header scanner reuse', () => {
  it('reads every line as a fresh scanner does, whatever line came before', async () => {
    const expected = new Map<string, unknown>();
    for (const line of LINES) expected.set(line, reading(await freshHeaderModule(), line));
    const m = await freshHeaderModule();
    for (const primer of LINES) {
      for (const line of LINES) {
        m.scanHeader(primer, new m.Header(), 2026);
        expect(reading(m, line), `${JSON.stringify(line)} after ${JSON.stringify(primer)}`).toEqual(expected.get(line));
      }
    }
  });
});
