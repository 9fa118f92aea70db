/**
 * A seeded corpus of node log lines carrying secrets of every class in log-summarization.md §4, in the
 * shapes real components print them (klog curl dumps, headers, kubeadm, URLs, key=value, JSON, dockercfg,
 * PEM split by journald), plus look-alike negatives that must stay readable.
 */
import { mulberry32, type Rng } from '../../src/sandbox/generate/prng.js';

export interface CorpusSecret {
  kind: string;
  value: string;
}

export interface SecretCorpus {
  /** Message lines (without a journal prefix). */
  lines: string[];
  secrets: CorpusSecret[];
}

export interface LookalikeCorpus {
  lines: string[];
  /** Per line, the value that must survive redaction. */
  values: { kind: string; value: string; line: number }[];
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const B64 = ALNUM + '+/';
const B64URL = ALNUM + '-_';
const PASS = ALNUM + '!#%$^*()-_+=.~';
const AWS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const LOWER_ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';

const b64url = (s: string) => Buffer.from(s).toString('base64url');

function jwt(r: Rng): string {
  const header = b64url(JSON.stringify({ alg: r.pick(['RS256', 'ES256', 'HS256']), kid: r.chars(20, B64URL) }));
  const payload = b64url(JSON.stringify({ sub: `system:serviceaccount:ns-${r.int(1, 99)}:sa-${r.chars(5, LOWER_ALNUM)}`, exp: 1_790_000_000 + r.int(0, 9_999_999) }));
  return `${header}.${payload}.${r.chars(r.int(43, 86), B64URL)}`;
}

/** A password that always holds a digit and a symbol, so no rule can mistake it for a word. */
function password(r: Rng): string {
  return `${r.chars(r.int(10, 20), PASS)}${r.int(0, 9)}${r.pick(['!', '#', '%', '$', '^', '*'])}${r.chars(3, ALNUM)}`;
}

function urlPassword(r: Rng): string {
  return `${r.chars(r.int(10, 20), ALNUM + '-_.~')}${r.int(0, 9)}`;
}

type Maker = (r: Rng, s: (kind: string, v: string) => string) => string[];

const MAKERS: Maker[] = [
  (r, s) => [`I1127 04:00:01.000000 812 round_trippers.go:473] curl -v -XGET -H "Accept: application/json" -H "Authorization: Bearer ${s('bearer', r.chars(r.int(32, 64), ALNUM + '-._~'))}" 'https://10.0.0.10:6443/api/v1/nodes?limit=500'`],
  (r, s) => [`I1127 04:00:01.000000 812 round_trippers.go:580] "Request Headers" headers={"Authorization":"Bearer ${s('bearer-jwt', jwt(r))}","User-Agent":"kubelet/v1.36.0"}`],
  (r, s) => [`I1127 04:00:01.000000 812 round_trippers.go:580]     Authorization: Basic ${s('basic', Buffer.from(`reader-${r.int(1, 99)}:${password(r)}`).toString('base64'))}`],
  (r, s) => [`proxy: forwarding with Proxy-Authorization: Basic ${s('proxy-basic', Buffer.from(`proxyuser:${password(r)}`).toString('base64'))} to 10.1.2.3:3128`],
  (r, s) => [`+ curl -sS -u admin:${s('curl-user', password(r))} https://10.0.0.10:9200/_cluster/health`],
  (r, s) => [`I1127 04:00:01.000000 812 round_trippers.go:580] request headers map[Accept:[application/json] Authorization:[Bearer ${s('bearer-go-map', r.chars(48, ALNUM))}]]`],
  (r, s) => [`git fetch: header Authorization: token ${s('token-scheme', `ghp_${r.chars(36, ALNUM)}`)}`],
  (r, s) => [`kubectl create secret docker-registry regcred --docker-username=ci --docker-password=${s('password-kv', password(r))}`],
  (r, s) => [`rejecting projected service account token ${s('jwt', jwt(r))} (audience mismatch)`],
  (r, s) => [`found static credentials ${s('aws-key-id', r.pick(['AKIA', 'ASIA', 'ABIA', 'ACCA']) + r.chars(16, AWS))} in /root/.aws/credentials, profile default`],
  (r, s) => [`aws config: aws_secret_access_key = ${s('aws-secret', r.chars(40, B64))}`],
  (r, s) => [`[discovery] Using token: ${s('bootstrap-token', `${r.chars(6, LOWER_ALNUM)}.${r.chars(16, LOWER_ALNUM)}`)}`],
  (r, s) => [`running: kubeadm join 10.0.0.10:6443 --token ${s('bootstrap-token', `${r.chars(5, LOWER_ALNUM)}${r.int(0, 9)}.${r.chars(15, LOWER_ALNUM)}${r.int(0, 9)}`)} --discovery-token-ca-cert-hash sha256:${r.hex(64)}`],
  (r, s) => [`trying next host error="failed to do request: Head \\"https://robot:${s('url-credentials', urlPassword(r))}@registry.example.com/v2/app/manifests/1.2.3\\": i/o timeout"`],
  (r, s) => [`proxy configured: HTTPS_PROXY=http://proxy-user:${s('url-credentials', urlPassword(r))}@10.0.0.5:3128`],
  (r, s) => [`connecting to postgres host=10.0.4.12 user=ledger password=${s('password-kv', password(r))} sslmode=require`],
  (r, s) => [`mysql client: --user=root --password=${s('password-kv', password(r))} --host=db`],
  (r, s) => [`env: DB_PASSWORD="${s('password-kv', password(r))}"`],
  (r, s) => [`ldap bind passwd: ${s('password-kv', password(r))}`],
  (r, s) => [`vault: {addr: https://vault.internal:8200, token: ${s('token-kv', `hvs.${r.chars(40, ALNUM)}`)}}`],
  (r, s) => [`oauth: access_token=${s('token-kv', r.chars(r.int(30, 50), ALNUM))}&token_type=bearer&expires_in=3600`],
  (r, s) => [`{"refresh_token":"${s('token-kv', r.chars(48, ALNUM))}","scope":"openid"}`],
  (r, s) => [`posting metrics endpoint=https://metrics.example.com/v1/series api_key=${s('api-key-kv', `sk_live_${r.chars(32, ALNUM)}`)} batch=512`],
  (r, s) => [`webhook headers: X-Api-Key: ${s('api-key-kv', r.chars(36, ALNUM))}`],
  (r, s) => [`oidc provider configured client_id=kube client_secret=${s('client-secret', r.chars(40, ALNUM))}`],
  (r, s) => [`config rejected: {"endpoint":"s3.example.com","username":"svc-backup","password":"${s('json-password', password(r))}","retries":3}`],
  (r, s) => [`"Docker config file not found" err="invalid character" config={"auths":{"registry.example.com":{"auth":"${s('docker-auth', Buffer.from(`ci-bot:${password(r)}`).toString('base64'))}"}}}`],
  (r, s) => [`registry login: {"identitytoken":"${s('docker-auth', r.chars(64, ALNUM))}"}`],
  (r, s) => [`http request Cookie: session=${s('cookie', r.chars(40, ALNUM))}`],
  (r, s) => [`storage credentials=${s('credentials-kv', r.chars(32, B64))}`],
  (r, s) => [`rbd: map image with secret: ${s('secret-kv', r.chars(40, B64))}`],
  // Issue 17: shapes that leaked before, each with look-alike negatives in lookalikeCorpus.
  (r, s) => [`E1127 04:00:01.000000 812 request.go:1] "Unhandled Error" err="an error on the server (\\"body: {\\\"token\\\":\\\"${s('klog-escaped-json', r.chars(40, ALNUM))}\\\"}\\") has prevented the request"`],
  (r, s) => [`E1127 04:00:01.000000 812 auth.go:88] "Login failed" err="body: {\\"username\\":\\"svc\\",\\"password\\":\\"${s('klog-escaped-json', password(r).replace(/[\\"]/g, ''))}\\"}"`],
  (r, s) => [`\x1b[1;33mWARN\x1b[0m db connect \x1b[36mpass\x1b[0mword=${s('ansi-key', password(r))} host=db`],
  (r, s) => [`sidecar env: to\u200bken=${s('zero-width-key', r.chars(40, ALNUM))} api_url=https://api.internal`],
  (r, s) => [`config dump: \u202dapi\u2066_key\u2069=${s('bidi-key', r.chars(36, ALNUM))} region=eu-west-1`],
  (r, s) => [`cache: connecting to redis://:${s('url-credentials-empty-user', urlPassword(r))}@redis-master.cache.svc:6379/0`],
  (r, s) => [`backup.sh[311]: + mysqldump -h db.internal -u backup -p${s('mysql-p', password(r).replace(/[$^*()]/g, 'x'))} --single-transaction ledger`],
  (r, s) => [`"HTTP" verb="POST" URI="/login?user=admin&password%3D${s('percent-password', r.chars(20, ALNUM))}%26remember%3D1" latency="3ms"`],
  (r, s) => [`proxy: GET /fetch?hdr=Authorization%3A%20Bearer%20${s('percent-bearer', r.chars(40, ALNUM))}&u=https%3A%2F%2Fapi 200`],
  (r, s) => [`git clone using ${s('github-token', `${r.pick(['ghp', 'gho', 'ghs', 'ghu'])}_${r.chars(36, ALNUM)}`)} for org/repo`],
  (r, s) => [`ci: GH_CREDENTIAL_HELPER returned ${s('github-pat', `github_pat_${r.chars(22, ALNUM)}_${r.chars(59, ALNUM)}`)}`],
  (r, s) => [`alertmanager: slack receiver posting with ${s('slack-token', `${r.pick(['xoxb', 'xoxp'])}-${r.int(1e9, 9e9)}-${r.int(1e9, 9e9)}-${r.chars(24, ALNUM)}`)}`],
  (r, s) => [`payments: stripe client initialised ${s('stripe-key', `sk_live_${r.chars(32, ALNUM)}`)} mode=live`],
  (r, s) => [`gitlab-runner: registered runner with ${s('gitlab-token', `glpat-${r.chars(20, ALNUM + '-_')}`)}`],
  (r, s) => [`maps-proxy: upstream https://maps.googleapis.com/maps/api/geocode/json?key=x&k2=${s('google-api-key', `AIza${r.chars(35, ALNUM + '-_')}`)}`],
  (r, s) => [`ldap bind passwd: ${s('password-with-spaces', `${r.chars(9, ALNUM)}${r.int(0, 9)} ${r.chars(8, ALNUM)} ${r.chars(8, ALNUM)}`)}`],
  (r, s) => [`loaded private key: key="-----BEGIN PRIVATE KEY-----\\n${s('private-key-inline', r.chars(64, B64))}\\n${s('private-key-inline', r.chars(44, B64))}==\\n-----END PRIVATE KEY-----"`],
  (r, s) => {
    const label = r.pick(['RSA PRIVATE KEY', 'EC PRIVATE KEY', 'PRIVATE KEY', 'OPENSSH PRIVATE KEY', 'ENCRYPTED PRIVATE KEY']);
    const body = Array.from({ length: r.int(3, 8) }, () => s('private-key', r.chars(64, B64)));
    return [`writing new key to /etc/kubernetes/pki/sa.key:`, `-----BEGIN ${label}-----`, ...body, s('private-key', `${r.chars(24, B64)}==`), `-----END ${label}-----`];
  },
];

/** `count` secrets (a little more: PEM blocks plant several), every class at least count/MAKERS times. */
export function secretCorpus(seed: number, count: number): SecretCorpus {
  const r = mulberry32(seed);
  const lines: string[] = [];
  const secrets: CorpusSecret[] = [];
  const s = (kind: string, value: string): string => {
    secrets.push({ kind, value });
    return value;
  };
  for (let i = 0; secrets.length < count; i++) lines.push(...MAKERS[i % MAKERS.length]!(r, s));
  return { lines, secrets };
}

export const SECRET_CLASSES = MAKERS.length;

/** Values that look like secrets to an entropy detector but are not credentials. */
export function lookalikeCorpus(seed: number, count: number): LookalikeCorpus {
  const r = mulberry32(seed);
  const lines: string[] = [];
  const values: LookalikeCorpus['values'] = [];
  const v = (kind: string, value: string): string => {
    values.push({ kind, value, line: lines.length });
    return value;
  };
  const uuid = () => {
    const h = r.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`;
  };
  const makers: (() => string)[] = [
    () => `shim disconnected id=${v('hex64', r.hex(64))} namespace=k8s.io`,
    () => `ImageUpdate event name:"registry.example.com/app:1.2" digest=sha256:${v('digest', r.hex(64))}`,
    () => `"SyncLoop UPDATE" source="api" pods=["default/web-${r.chars(5, LOWER_ALNUM)}"] podUID="${v('uuid', uuid())}"`,
    () => `RemoveContainer containerID="containerd://${v('hex64', r.hex(64))}"`,
    () => `configmap kube-system/cluster-info payload=${v('base64', Buffer.from(JSON.stringify({ clusters: [{ server: `https://10.0.0.${r.int(1, 254)}:6443` }], n: r.int(0, 1e6) })).toString('base64'))}`,
    () => `received chunk data=${v('base64', r.chars(r.int(40, 80), B64))}== seq=${r.int(1, 9999)}`,
    () => `"Volume detached" volumeName="kubernetes.io/csi/ebs.csi.aws.com^vol-${v('vol', r.hex(17))}"`,
    () => `etcd member id=${v('hex16', r.hex(16))} raft term=${r.int(1, 99)}`,
    () => `token refreshed for ${v('sa', `system:serviceaccount:kube-system:sa-${r.chars(6, LOWER_ALNUM)}`)}`,
    () => `mounted secret=${v('secret-ref', `kube-system/bootstrap-token-${r.chars(6, LOWER_ALNUM)}`)} into pod`,
    () => `checksum/config: ${v('hex64', r.hex(64))}`,
    () => v('hex64', r.hex(64)), // `crictl ps -q` output: a bare container id on its own line
    () => `trace_id=${v('hex32', r.hex(32))} span_id=${r.hex(16)} request completed`,
    () => `Started cri-containerd-${v('hex64', r.hex(64))}.scope - libcontainer container`,
    () => v('prose', `Failed password for invalid user ${r.pick(['admin', 'oracle', 'test', 'ubuntu'])} from 203.0.113.${r.int(1, 254)} port ${r.int(1024, 65535)} ssh2`),
    () => v('prose', `Accepted password for ubuntu from 10.0.${r.int(0, 9)}.${r.int(1, 254)} port ${r.int(1024, 65535)} ssh2`),
    () => v('prose', `"Unable to retrieve pull secret" pod="default/web-${r.chars(5, LOWER_ALNUM)}" err="secret \"regcred-${r.int(1, 99)}\" not found"`),
    () => v('prose', `MountVolume.SetUp failed for volume "token" : secret "default-token-${r.chars(5, LOWER_ALNUM)}" not found`),
    () => v('prose', `level=info msg="passwd file updated" uid=${r.int(1000, 2000)}`),
    () => v('prose', `Using token file /var/lib/kubelet/pki/token-${r.int(1, 9)} for bootstrap, token_ttl=${r.int(1, 48)}h`),
    () => `audit: type=1400 apparmor="DENIED" profile="cri-containerd.apparmor.d" name="/proc/${r.int(1, 9999)}/attr" comm="runc" pid=${r.int(1, 9999)} uuid=${v('uuid', uuid())}`,
    // Issue 17 look-alikes, one (or more) per new secret shape.
    () => `E1127 04:00:01.000000 812 request.go:1] err="body: {\\"kind\\":\\"Status\\",\\"secretName\\":\\"${v('escaped-json-ref', `regcred-${r.chars(6, LOWER_ALNUM)}`)}\\"}"`,
    () => `\x1b[32mINFO\x1b[0m \x1b[1mtoken\x1b[0m refreshed for ${v('ansi-prose', `system:serviceaccount:kube-system:sa-${r.chars(6, LOWER_ALNUM)}`)}`,
    () => `pod\u200bUID=${v('zero-width-uuid', uuid())} phase=Running`,
    () => `cache: connecting to ${v('redis-url', `redis://redis-master-${r.int(0, 9)}.cache.svc:6379/${r.int(0, 15)}`)}`,
    () => `backup.sh[311]: + cp -pr /var/lib/mysql ${v('mysql-path', `/backup/mysql-${r.hex(8)}`)}`,
    () => `backup.sh[311]: + mysql -h db.internal -P 3306 -u reader -p ${v('mysql-db', `ledger_${r.chars(5, LOWER_ALNUM)}`)}`,
    () => `"HTTP" verb="GET" URI="${v('percent-url', `/ui?next=%2Fsettings%2Fpassword%3Ftab%3D${r.pick(['security', 'general', 'keys'])}`)}" latency="2ms"`,
    () => `audit: ${v('percent-url', `/apis/authentication.k8s.io/v1/tokenreviews%3FdryRun%3D${r.pick(['All', 'None'])}`)} allowed`,
    () => `lint: variable ${v('provider-prefix', `ghp_${r.chars(8, LOWER_ALNUM)}`)} shadows ${v('provider-prefix', `sk_live_mode`)} and ${v('provider-prefix', `glpat-${r.chars(6, LOWER_ALNUM)}`)}`,
    () => `docs: keys look like ${v('provider-prefix', `AIza${r.chars(10, ALNUM)}`)} or ${v('provider-prefix', `xoxb-${r.int(10, 99)}`)}`,
    () => v('prose', `password change requested for user ${r.pick(['alice', 'bob', 'carol'])} via portal`),
  ];
  for (let i = 0; i < count; i++) lines.push(makers[i % makers.length]!());
  return { lines, values };
}

/** Journal short-precise prefix, as the kubelet's journalctl prints it. */
export function asJournal(lines: string[], host = 'node', unit = 'node-agent'): string {
  return lines.map((l, i) => `Nov 27 04:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}.${String(i).padStart(6, '0')} ${host} ${unit}[4242]: ${l}`).join('\n') + '\n';
}

/** Every secret found in `text`: the value itself, or its tail (a cut that left part of it behind). */
export function findLeaks(text: string, secrets: readonly { value: string }[]): string[] {
  const leaks: string[] = [];
  for (const { value } of secrets) {
    if (text.includes(value) || (value.length >= 24 && text.includes(value.slice(-12)))) leaks.push(value);
  }
  return leaks;
}
