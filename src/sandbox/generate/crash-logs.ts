import type { Rng } from './prng.js';
import { rfc3339Nano } from './formats.js';

/**
 * A container log (CRI format) of a pod that crashes the ways real ones do: a Java service logging a
 * stack trace with its cause, a long JSON line that the runtime split into partial ("P") lines, and a Go
 * panic with its goroutine dump. Ordinary request lines around them. Every line of a multi-line event is
 * its own CRI line, as the runtime writes them.
 */
export const CRASH_LOG_PATH = 'pods/payments_ledger-crash-6c9d7_5b0e1f2a-7c3d-4e8f-9a1b-2c3d4e5f6a7b/ledger/1.log';

export function crashLoopPodLog(rng: Rng, now: bigint): string {
  const SEC = 1_000_000n;
  let t = now - 20n * 60n * SEC;
  const lines: string[] = [];
  const line = (stream: 'stdout' | 'stderr', text: string, partial = false) => {
    lines.push(`${rfc3339Nano(t)} ${stream} ${partial ? 'P' : 'F'} ${text}`);
  };
  const tick = () => {
    t += BigInt(rng.int(1, 20)) * SEC + BigInt(rng.int(0, 999_999));
  };
  const request = () => {
    const ts = new Date(Number(t / 1000n)).toISOString();
    line('stdout', `${ts}  INFO 1 --- [nio-8080-exec-${rng.int(1, 9)}] c.e.ledger.BalanceController         : Served balance for account ${rng.int(10000, 99999)} in ${rng.int(2, 90)} ms`);
    tick();
  };
  for (let i = 0; i < 12; i++) request();

  // A Java error with its stack trace and cause.
  const ts = new Date(Number(t / 1000n)).toISOString();
  line('stdout', `${ts} ERROR 1 --- [nio-8080-exec-3] c.e.ledger.BalanceController         : Balance lookup failed for account 40417`);
  line('stdout', 'java.lang.IllegalStateException: ledger shard 7 unavailable');
  line('stdout', '\tat com.example.ledger.ShardRouter.route(ShardRouter.java:88)');
  line('stdout', '\tat com.example.ledger.BalanceService.balance(BalanceService.java:41)');
  line('stdout', '\tat com.example.ledger.BalanceController.get(BalanceController.java:29)');
  line('stdout', 'Caused by: java.net.ConnectException: Connection refused');
  line('stdout', '\tat java.base/sun.nio.ch.Net.connect0(Native Method)');
  line('stdout', '\t... 42 more');
  tick();
  for (let i = 0; i < 6; i++) request();

  // One long JSON line, split by the runtime into partials.
  const snapshot = JSON.stringify({ level: 'info', msg: 'shard map snapshot', shards: Array.from({ length: 24 }, (_, k) => ({ id: k, leader: `ledger-${k % 3}`, lag: rng.int(0, 900) })) });
  line('stdout', snapshot.slice(0, 300), true);
  line('stdout', snapshot.slice(300, 600), true);
  line('stdout', snapshot.slice(600));
  tick();
  for (let i = 0; i < 4; i++) request();

  // The Go sidecar panics.
  line('stderr', 'panic: runtime error: invalid memory address or nil pointer dereference');
  line('stderr', '[signal SIGSEGV: segmentation violation code=0x1 addr=0x18 pc=0x6f1c2a]');
  line('stderr', '');
  line('stderr', 'goroutine 41 [running]:');
  line('stderr', 'example.com/ledger/sidecar/watch.(*Watcher).onEvent(0x0, {0x8a1f20, 0xc0004a2b40})');
  line('stderr', '\t/src/sidecar/watch/watcher.go:112 +0x2a');
  line('stderr', 'example.com/ledger/sidecar/watch.(*Watcher).run(0xc0001b6000)');
  line('stderr', '\t/src/sidecar/watch/watcher.go:77 +0x1c5');
  line('stderr', 'created by example.com/ledger/sidecar/watch.New in goroutine 1');
  line('stderr', '\t/src/sidecar/watch/watcher.go:40 +0x11d');
  return lines.join('\n') + '\n';
}
