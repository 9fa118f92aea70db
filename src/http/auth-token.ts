/**
 * Is a bearer token fit to guard a listener other machines can reach? Refuses the placeholders shipped in
 * deploy/ and documentation, and tokens short or repetitive enough to guess. Loopback listeners are not
 * checked: only local processes reach them.
 */

export const MIN_TOKEN_LENGTH = 32;

export const GENERATE_TOKEN_HINT =
  'Generate one with `openssl rand -hex 32` (or `node -e "console.log(require(\'crypto\').randomBytes(32).toString(\'hex\'))"`) and put it in the Secret (kubectl create secret generic kube-node-logs-mcp-auth --from-literal=token="$(openssl rand -hex 32)").';

// deploy/base/secret.yaml's placeholder and the words placeholders are made of.
const PLACEHOLDER = /replace[-_ ]?me|change[-_ ]?me|changeit|placeholder|example|your[-_ ]?(?:token|secret)|openssl[-_ ]rand|xxxxxx|<[^>]*>|^(?:token|secret|password|admin|test)/i;

/** Why `token` must not guard a non-loopback listener, or undefined when it may. */
export function weakTokenProblem(token: string): string | undefined {
  if (PLACEHOLDER.test(token)) return 'the bearer token is a placeholder (as shipped in deploy/base/secret.yaml or the documentation), not a secret';
  if (token.length < MIN_TOKEN_LENGTH) return `the bearer token is ${token.length} characters long; at least ${MIN_TOKEN_LENGTH} are required`;
  if (new Set(token).size < 8) return 'the bearer token repeats too few distinct characters to be a random secret';
  return undefined;
}
