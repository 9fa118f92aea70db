import { writeFile } from 'node:fs/promises';

export interface KubeconfigInput {
  server: string;
  /** Absolute path of the CA bundle. */
  caPath: string;
  tokens: { admin: string; restricted: string };
}

export const ADMIN_CONTEXT = 'sandbox-admin';
export const RESTRICTED_CONTEXT = 'sandbox-restricted';
export const CLUSTER_NAME = 'sandbox';

/** kubeconfig text; JSON-quoted scalars keep it valid YAML for both kubectl and js-yaml whatever the path. */
export function renderKubeconfig(k: KubeconfigInput): string {
  const q = (s: string) => JSON.stringify(s);
  return `apiVersion: v1
kind: Config
preferences: {}
clusters:
- name: ${CLUSTER_NAME}
  cluster:
    server: ${q(k.server)}
    certificate-authority: ${q(k.caPath)}
users:
- name: ${ADMIN_CONTEXT}
  user:
    token: ${q(k.tokens.admin)}
- name: ${RESTRICTED_CONTEXT}
  user:
    token: ${q(k.tokens.restricted)}
contexts:
- name: ${ADMIN_CONTEXT}
  context:
    cluster: ${CLUSTER_NAME}
    user: ${ADMIN_CONTEXT}
- name: ${RESTRICTED_CONTEXT}
  context:
    cluster: ${CLUSTER_NAME}
    user: ${RESTRICTED_CONTEXT}
current-context: ${ADMIN_CONTEXT}
`;
}

export async function writeKubeconfig(path: string, k: KubeconfigInput): Promise<void> {
  await writeFile(path, renderKubeconfig(k), { mode: 0o600 });
}
