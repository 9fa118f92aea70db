import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ClusterEntry, ExecConfig } from './kubeconfig.js';
import { KubeError, excerpt } from './errors.js';

/** What a credential plugin gave: a bearer token and/or a client certificate. */
export interface ExecCredential {
  token?: string;
  cert?: string;
  key?: string;
  /** Epoch ms; undefined: valid until the API server rejects it (client-go's rule). */
  expiresAt?: number;
}

const SUPPORTED = ['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1'];
/** A plugin that has not answered by then is killed, even if callers with longer deadlines still wait. */
const HARD_LIMIT_MS = 120_000;
const MAX_STDOUT = 1024 * 1024;
const MAX_STDERR = 16 * 1024;
/** Renew a little before expiry, so a request does not leave with a token that dies in flight. */
const EXPIRY_SKEW_MS = 10_000;

/**
 * Runs a kubeconfig exec credential plugin the way client-go does, minus the terminal: this server's stdin
 * carries the MCP protocol, so the plugin gets no stdin at all (a prompt sees end-of-file and fails at once
 * instead of waiting for ever). One run at a time however many requests wait; the answer is cached until
 * its expirationTimestamp; a run nobody waits for any more is killed with its process group.
 */
export class ExecPlugin {
  private cached?: ExecCredential;
  private inflight?: { promise: Promise<ExecCredential>; waiters: number; kill: () => void };
  readonly name: string;

  constructor(
    private readonly exec: ExecConfig,
    private readonly cluster: ClusterEntry,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.name = path.basename(exec.command);
  }

  /** Stops a run in progress (server shutdown): its process group is in no one else's care. */
  close(): void {
    this.inflight?.kill();
    this.inflight = undefined;
  }

  /** Forget the cached credential (the API server said 401 to it). */
  invalidate(cred?: ExecCredential): void {
    if (!cred || cred === this.cached) this.cached = undefined;
  }

  /** `signal` ends the wait; `callerSignal` tells a caller's cancel apart from the deadline. */
  async get(signal: AbortSignal, timeoutMs: number, callerSignal?: AbortSignal): Promise<ExecCredential> {
    const c = this.cached;
    if (c && (c.expiresAt === undefined || c.expiresAt - EXPIRY_SKEW_MS > Date.now())) return c;
    if (!this.inflight) {
      const run = this.run();
      const entry = { promise: run.promise, waiters: 0, kill: run.kill };
      this.inflight = entry;
      run.promise.then(
        (cred) => {
          this.cached = cred;
        },
        () => undefined,
      ).finally(() => {
        if (this.inflight === entry) this.inflight = undefined;
      });
    }
    const entry = this.inflight;
    entry.waiters++;
    try {
      return await new Promise<ExecCredential>((resolve, reject) => {
        const onAbort = () => reject(callerSignal?.aborted ? new KubeError('aborted', 'The request was cancelled by the caller.') : this.stalled(timeoutMs));
        if (signal.aborted) return onAbort();
        signal.addEventListener('abort', onAbort, { once: true });
        entry.promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
      });
    } finally {
      // Nobody waits for this run any more (every caller gave up): do not leave the plugin behind.
      if (--entry.waiters === 0 && this.inflight === entry) {
        entry.kill();
        this.inflight = undefined;
      }
    }
  }

  private stalled(timeoutMs: number): KubeError {
    return new KubeError(
      'auth-plugin',
      `The kubeconfig's credential plugin "${this.name}" gave no credentials within ${Math.round(timeoutMs / 100) / 10} s, so the request was abandoned and the plugin stopped. ` +
        `It may be waiting for input (a password, a browser login): this server runs plugins without a terminal. Log in once in a terminal (e.g. run "${this.exec.command}${this.exec.args.length ? ` ${this.exec.args.join(' ')}` : ''}" there), or use a plugin mode that does not prompt.`,
    );
  }

  private execInfo(): string {
    const spec: Record<string, unknown> = { interactive: false };
    if (this.exec.provideClusterInfo) {
      const c = this.cluster;
      const cluster: Record<string, unknown> = { server: c.server };
      if (c.tlsServerName) cluster['tls-server-name'] = c.tlsServerName;
      if (c.skipTLSVerify) cluster['insecure-skip-tls-verify'] = true;
      // client-go hands the CA as data even when the kubeconfig names a file.
      const ca = c.caData ?? readCaFile(c.caFile);
      if (ca) cluster['certificate-authority-data'] = ca;
      if (c.proxyUrl) cluster['proxy-url'] = c.proxyUrl;
      if (c.execExtension !== undefined) cluster.config = c.execExtension;
      spec.cluster = cluster;
    }
    return JSON.stringify({ apiVersion: this.exec.apiVersion ?? SUPPORTED[0], kind: 'ExecCredential', spec });
  }

  private run(): { promise: Promise<ExecCredential>; kill: () => void } {
    const x = this.exec;
    if (x.apiVersion && !SUPPORTED.includes(x.apiVersion)) {
      const err = new KubeError('auth-plugin', `The kubeconfig's credential plugin "${this.name}" asks for apiVersion ${x.apiVersion}; supported: ${SUPPORTED.join(', ')}. Update users[].user.exec.apiVersion (and the plugin).`);
      return { promise: Promise.reject(err), kill: () => undefined };
    }
    if (x.interactiveMode === 'Always') {
      const err = new KubeError('auth-plugin', `The kubeconfig's credential plugin "${this.name}" has interactiveMode: Always, but this server has no terminal to give it (its stdin carries MCP). Set interactiveMode: IfAvailable or Never, after logging in once in a terminal.`);
      return { promise: Promise.reject(err), kill: () => undefined };
    }
    const env: NodeJS.ProcessEnv = { ...this.env };
    for (const e of x.env) env[e.name] = e.value;
    env.KUBERNETES_EXEC_INFO = this.execInfo();
    let killed = false;
    const child = spawn(x.command, x.args, { stdio: ['ignore', 'pipe', 'pipe'], env, detached: true });
    const kill = () => {
      if (killed || child.exitCode !== null || child.signalCode !== null) return;
      killed = true;
      try {
        // Its own process group: a shell plugin's children (sleep, curl) go too, and release the pipes.
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const hard = setTimeout(kill, HARD_LIMIT_MS);
    hard.unref();
    const promise = new Promise<ExecCredential>((resolve, reject) => {
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let outLen = 0;
      let errLen = 0;
      let overflow = false;
      child.stdout.on('data', (b: Buffer) => {
        if (outLen + b.length > MAX_STDOUT) {
          overflow = true;
          kill();
          return;
        }
        outLen += b.length;
        out.push(b);
      });
      child.stderr.on('data', (b: Buffer) => {
        if (errLen < MAX_STDERR) err.push(b.subarray(0, MAX_STDERR - errLen));
        errLen += b.length;
      });
      child.on('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(hard);
        if (e.code === 'ENOENT')
          reject(
            new KubeError(
              'auth-plugin',
              `The kubeconfig's credential plugin "${x.command}" was not found${/[\\/]/.test(x.command) ? '' : ' on the PATH this server was started with'}.` +
                (x.installHint ? ` Its install hint: ${excerpt(x.installHint, 400)}` : '') +
                (/[\\/]/.test(x.command) ? ' Fix users[].user.exec.command (a relative path is relative to the kubeconfig file).' : ' Install it, or give the full path in users[].user.exec.command (MCP clients often start servers with a shorter PATH than your shell).'),
            ),
          );
        else reject(new KubeError('auth-plugin', `The kubeconfig's credential plugin "${this.name}" could not be started: ${excerpt(e.message)}.`));
      });
      child.on('close', (code, sig) => {
        clearTimeout(hard);
        const stderr = excerpt(Buffer.concat(err).toString('utf8'), 300);
        if (overflow) return reject(new KubeError('auth-plugin', `The kubeconfig's credential plugin "${this.name}" printed more than ${MAX_STDOUT} bytes; an ExecCredential is a small JSON object. Check users[].user.exec.`));
        if (killed) return reject(new KubeError('auth-plugin', `The kubeconfig's credential plugin "${this.name}" was stopped: it did not finish in time${stderr ? ` (it said: ${stderr})` : ''}.`));
        if (code !== 0)
          return reject(
            new KubeError(
              'auth-plugin',
              `The kubeconfig's credential plugin "${this.name}" failed (${sig ? `signal ${sig}` : `exit code ${code}`})${stderr ? `: ${stderr}` : ' and printed nothing'}. Run it by hand to see why (often a login that expired: log in again), or fix users[].user.exec in the kubeconfig.`,
            ),
          );
        try {
          resolve(this.parse(Buffer.concat(out).toString('utf8')));
        } catch (e) {
          reject(e);
        }
      });
    });
    return { promise, kill };
  }

  private parse(text: string): ExecCredential {
    const bad = (why: string) =>
      new KubeError('auth-plugin', `The kubeconfig's credential plugin "${this.name}" printed something that is not a usable ExecCredential (${why}). Check users[].user.exec in the kubeconfig and that the plugin's version matches its apiVersion.`);
    let obj: { apiVersion?: string; kind?: string; status?: Record<string, unknown> };
    try {
      obj = JSON.parse(text);
    } catch {
      throw bad(`not JSON: ${excerpt(text, 80) || 'empty output'}`);
    }
    if (!obj || obj.kind !== 'ExecCredential') throw bad(`kind is ${JSON.stringify(obj?.kind)}`);
    if (this.exec.apiVersion && obj.apiVersion !== this.exec.apiVersion) throw bad(`it answered apiVersion ${JSON.stringify(obj.apiVersion)}, the kubeconfig asks for ${this.exec.apiVersion}`);
    const s = obj.status ?? {};
    const token = typeof s.token === 'string' && s.token ? s.token : undefined;
    const cert = typeof s.clientCertificateData === 'string' && s.clientCertificateData ? s.clientCertificateData : undefined;
    const key = typeof s.clientKeyData === 'string' && s.clientKeyData ? s.clientKeyData : undefined;
    if (!token && !(cert && key)) throw bad(cert || key ? 'clientCertificateData and clientKeyData must come together' : 'no status.token and no client certificate');
    let expiresAt: number | undefined;
    if (typeof s.expirationTimestamp === 'string') {
      expiresAt = Date.parse(s.expirationTimestamp);
      if (Number.isNaN(expiresAt)) throw bad(`expirationTimestamp ${JSON.stringify(s.expirationTimestamp)} is not a time`);
    }
    return { token, cert, key, expiresAt };
  }
}

function readCaFile(file: string | undefined): string | undefined {
  if (!file) return undefined;
  try {
    return readFileSync(file).toString('base64');
  } catch {
    return undefined;
  }
}
