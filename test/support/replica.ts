import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { DIST_ENTRY } from './mcp.js';

export interface ReplicaProcess {
  child: ChildProcess;
  url: URL;
  port: number;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** The built server in HTTP mode on a free port; resolves once it listens. */
export async function startReplica(args: string[], env: Record<string, string> = {}): Promise<ReplicaProcess> {
  const child = spawn(process.execPath, [DIST_ENTRY, '--transport', 'http', '--port', '0', ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  // The "serving MCP over Streamable HTTP at URL" line gives the real port when --port 0 is given.
  const url = await new Promise<URL>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /serving MCP over Streamable HTTP at (http:\/\/\S+\/mcp)/.exec(stderr);
      if (m) resolve(new URL(m[1]!));
    });
    void exited.then(({ code }) => reject(new Error(`server exited (${code}) before listening:\n${stderr}`)));
  });
  return { child, url, port: Number(url.port), stderr: () => stderr, exited };
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** node:http rather than fetch, so that Host, Origin and the client's own address can be set to anything. */
export function rawHttp(port: number, opts: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer; localAddress?: string }): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, localAddress: opts.localAddress, method: opts.method ?? 'GET', path: opts.path, headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

export async function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

/**
 * Sends `text` on a raw socket and never finishes the request: resolves with what the server answered
 * and how long it kept the connection open (rejects when it is still open after `timeoutMs`).
 */
export function slowClient(port: number, text: string, timeoutMs = 20_000): Promise<{ answer: string; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    let answer = '';
    const sock = net.connect(port, '127.0.0.1', () => sock.write(text));
    sock.on('data', (d) => (answer += d.toString()));
    sock.on('error', () => undefined);
    sock.on('close', () => resolve({ answer, closedAfterMs: Date.now() - started }));
    setTimeout(() => {
      sock.destroy();
      reject(new Error(`connection still open after ${timeoutMs / 1000} s; got: ${answer}`));
    }, timeoutMs);
  });
}

export async function until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000, stepMs = 25): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
