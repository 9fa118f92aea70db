import type { Rng } from './prng.js';

/** Shared vocabulary so the bulk stream and the node generator talk about the same kind of cluster. */
export const NAMESPACES = ['kube-system', 'default', 'monitoring', 'payments', 'ingress-nginx', 'logging'] as const;

export const WORKLOADS: readonly { ns: string; name: string; image: string; container: string }[] = [
  { ns: 'kube-system', name: 'kube-proxy', image: 'registry.k8s.io/kube-proxy:v1.36.0', container: 'kube-proxy' },
  { ns: 'kube-system', name: 'coredns', image: 'registry.k8s.io/coredns/coredns:v1.12.1', container: 'coredns' },
  { ns: 'kube-system', name: 'calico-node', image: 'docker.io/calico/node:v3.29.1', container: 'calico-node' },
  { ns: 'monitoring', name: 'node-exporter', image: 'quay.io/prometheus/node-exporter:v1.9.0', container: 'node-exporter' },
  { ns: 'payments', name: 'payments-api', image: 'registry.example.com/payments/api:2.14.3', container: 'api' },
  { ns: 'payments', name: 'ledger-worker', image: 'registry.example.com/payments/ledger:1.8.0', container: 'worker' },
  { ns: 'default', name: 'web-frontend', image: 'docker.io/library/nginx:1.27.3', container: 'nginx' },
  { ns: 'ingress-nginx', name: 'ingress-nginx-controller', image: 'registry.k8s.io/ingress-nginx/controller:v1.12.0', container: 'controller' },
  { ns: 'logging', name: 'fluent-bit', image: 'cr.fluentbit.io/fluent/fluent-bit:3.2.4', container: 'fluent-bit' },
];

const POD_SUFFIX = 'bcdfghjklmnpqrstvwxz2456789';

export function podName(rng: Rng, base: string): string {
  return `${base}-${rng.chars(10, POD_SUFFIX).slice(0, 5 + rng.int(0, 5))}`;
}

export function uuid(rng: Rng): string {
  const h = rng.hex(32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[rng.int(0, 3)]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function b64url(s: string): string {
  return Buffer.from(s).toString('base64url');
}

/** A JWT-shaped service-account token (header and payload are real base64url JSON). */
export function jwt(rng: Rng): string {
  const header = b64url(JSON.stringify({ alg: 'RS256', kid: rng.chars(43, B64URL) }));
  const payload = b64url(
    JSON.stringify({
      aud: ['https://kubernetes.default.svc.cluster.local'],
      exp: 1795000000 + rng.int(0, 9_999_999),
      iss: 'https://kubernetes.default.svc.cluster.local',
      sub: `system:serviceaccount:${rng.pick(NAMESPACES)}:${rng.pick(['default', 'builder', 'deployer'])}`,
    }),
  );
  return `${header}.${payload}.${rng.chars(86, B64URL)}`;
}

export function awsAccessKeyId(rng: Rng): string {
  return `AKIA${rng.chars(16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}`;
}

export function bootstrapToken(rng: Rng): string {
  const a = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return `${rng.chars(6, a)}.${rng.chars(16, a)}`;
}

export function password(rng: Rng): string {
  return rng.chars(18, 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789') + rng.pick(['!', '#', '%', '@9']);
}

export function apiKey(rng: Rng): string {
  return `sk_live_${rng.chars(32, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789')}`;
}

export function basicAuth(user: string, pass: string): string {
  return Buffer.from(`${user}:${pass}`).toString('base64');
}
