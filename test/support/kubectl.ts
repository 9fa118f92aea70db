/** Real kubectl, to compare the server's cluster access with the tool users already trust. */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';

export const KUBECTL = '/usr/bin/kubectl';
export const hasKubectl = existsSync(KUBECTL);

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs kubectl with exactly the environment given (plus PATH and a HOME), so a proxy variable of the test
 * runner cannot leak in, and with no stdin, as the server has none for credential plugins either.
 */
export function kubectl(args: string[], opts: { kubeconfig?: string; env?: Record<string, string>; home: string; timeoutMs?: number }): Promise<KubectlResult> {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: opts.home, ...opts.env };
  const all = [...(opts.kubeconfig ? ['--kubeconfig', opts.kubeconfig] : []), '--cache-dir', `${opts.home}/kube-cache`, ...args];
  return new Promise((resolve) => {
    const child = execFile(KUBECTL, all, { env, timeout: opts.timeoutMs ?? 30_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0, stdout, stderr }),
    );
    child.stdin?.end();
  });
}

/** The node proxy log query the issue compares: five kubelet journal lines through the apiserver. */
export function rawLogsArgs(node: string): string[] {
  return ['get', '--raw', `/api/v1/nodes/${node}/proxy/logs/?query=kubelet&tailLines=5`];
}
