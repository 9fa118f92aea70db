/** A kubeconfig that cannot be used as it stands: the message names the entry, its file and the fix. */
export class KubeConfigError extends Error {}
