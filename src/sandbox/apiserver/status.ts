/** metav1.Status failure bodies, shaped exactly as kube-apiserver serializes them. */
export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: string;
  details?: { name?: string; group?: string; kind?: string };
  code: number;
}

export function status(code: number, reason: string, message: string, details?: StatusBody['details']): StatusBody {
  // Field order matters to anyone diffing against a real cluster: details comes before code.
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

export const unauthorized = () => status(401, 'Unauthorized', 'Unauthorized');

export const notFoundGeneric = () => status(404, 'NotFound', 'the server could not find the requested resource', {});

export const nodeNotFound = (name: string) => status(404, 'NotFound', `nodes "${name}" not found`, { name, kind: 'nodes' });

export const methodNotAllowed = () =>
  status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});

export const badRequest = (message: string) => status(400, 'BadRequest', message);

export function forbidden(user: string, verb: string, resource: string, name?: string): StatusBody {
  const subject = name === undefined ? resource.split('/')[0]! : `${resource.split('/')[0]} "${name}"`;
  return status(
    403,
    'Forbidden',
    `${subject} is forbidden: User "${user}" cannot ${verb} resource "${resource}" in API group "" at the cluster scope`,
    name === undefined ? { kind: resource.split('/')[0] } : { name, kind: resource.split('/')[0] },
  );
}

export const serviceUnavailable = (message: string) => status(503, 'ServiceUnavailable', message);

export const internalError = (message: string) => status(500, 'InternalError', `Internal error occurred: ${message}`);
