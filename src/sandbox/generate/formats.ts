/** Line formats of the programs whose logs we fake, keyed off a microsecond wall-clock time. */

function p2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function parts(usec: bigint): { d: Date; micros: string } {
  const ms = Number(usec / 1000n);
  return { d: new Date(ms), micros: String(usec % 1_000_000n).padStart(6, '0') };
}

/** klog header: `I1127 03:44:01.123456    2291 kubelet.go:2455] msg` */
export function klog(sev: 'I' | 'W' | 'E' | 'F', usec: bigint, pid: number, src: string, msg: string): string {
  const { d, micros } = parts(usec);
  const hms = `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
  return `${sev}${p2(d.getUTCMonth() + 1)}${p2(d.getUTCDate())} ${hms}.${micros} ${String(pid).padStart(7, ' ')} ${src}] ${msg}`;
}

/** RFC 3339 with nanoseconds, as containerd and CRI log files write it. */
export function rfc3339Nano(usec: bigint, extraNanos = 0): string {
  const { d, micros } = parts(usec);
  const date = `${d.getUTCFullYear()}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())}`;
  const hms = `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
  return `${date}T${hms}.${micros}${String(extraNanos % 1000).padStart(3, '0')}Z`;
}

/** containerd's logrus logfmt: `time="…" level=info msg="…" k=v` */
export function containerdLine(usec: bigint, level: string, msg: string, extra = ''): string {
  const q = msg.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  return `time="${rfc3339Nano(usec, Number(usec % 997n))}" level=${level} msg="${q}"${extra ? ` ${extra}` : ''}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Traditional rsyslog file timestamp: `Nov 27 03:44:01` */
export function syslogStamp(usec: bigint): string {
  const { d } = parts(usec);
  return `${MONTHS[d.getUTCMonth()]} ${p2(d.getUTCDate())} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
}
