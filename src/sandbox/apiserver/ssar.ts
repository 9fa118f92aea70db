import type { Attributes, User } from './auth.js';
import { authorize } from './auth.js';
import { decodeSelfSubjectAccessReview } from './protobuf.js';
import { badRequest, status, type StatusBody } from './status.js';

const KIND = 'SelfSubjectAccessReview';
const API_VERSION = 'authorization.k8s.io/v1';

interface ResourceAttributes {
  namespace?: string;
  verb?: string;
  group?: string;
  version?: string;
  resource?: string;
  subresource?: string;
  name?: string;
}

interface NonResourceAttributes {
  path?: string;
  verb?: string;
}

const invalid = (field: string, value: string, detail: string): StatusBody =>
  status(422, 'Invalid', `${KIND}.authorization.k8s.io "" is invalid: ${field}: Invalid value: ${value}: ${detail}`, {
    group: 'authorization.k8s.io',
    kind: KIND,
  });

/** Evaluates a SelfSubjectAccessReview body for `user`: the created review (201) or a Status error. */
export function reviewSelfAccess(user: User, body: Buffer, contentType: string | undefined): { code: number; body: unknown } {
  const mediaType = (contentType ?? 'application/json').split(';')[0]!.trim().toLowerCase();
  let parsed: unknown;
  if (mediaType === 'application/vnd.kubernetes.protobuf') {
    try {
      parsed = decodeSelfSubjectAccessReview(body);
    } catch (e) {
      return err(badRequest(`failed to decode protobuf: ${(e as Error).message}`));
    }
  } else if (mediaType === 'application/json' || mediaType === '*/*' || mediaType === '') {
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch (e) {
      return err(badRequest(`couldn't get version/kind; json parse error: ${(e as Error).message}`));
    }
  } else {
    return err(status(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf`));
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return err(badRequest(`couldn't get version/kind; json parse error: cannot unmarshal ${Array.isArray(parsed) ? 'array' : typeof parsed} into Go value of type struct`));
  }
  const obj = parsed as { kind?: unknown; apiVersion?: unknown; spec?: { resourceAttributes?: ResourceAttributes; nonResourceAttributes?: NonResourceAttributes } };
  if ((obj.kind !== undefined && obj.kind !== KIND) || (obj.apiVersion !== undefined && obj.apiVersion !== API_VERSION)) {
    return err(badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${API_VERSION})`));
  }
  const spec = obj.spec && typeof obj.spec === 'object' ? obj.spec : {};
  const ra = spec.resourceAttributes && typeof spec.resourceAttributes === 'object' ? spec.resourceAttributes : undefined;
  const nra = spec.nonResourceAttributes && typeof spec.nonResourceAttributes === 'object' ? spec.nonResourceAttributes : undefined;
  if (!ra === !nra) {
    return err(
      ra
        ? invalid('spec.nonResourceAttributes', JSON.stringify(nra), 'cannot be specified in combination with resourceAttributes')
        : invalid('spec.resourceAttributes', '"null"', 'exactly one of nonResourceAttributes or resourceAttributes must be specified'),
    );
  }
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  const attrs: Attributes = ra
    ? {
        kind: 'resource',
        verb: str(ra.verb),
        group: str(ra.group),
        resource: str(ra.resource),
        subresource: str(ra.subresource) || undefined,
        name: str(ra.name) || undefined,
        namespace: str(ra.namespace) || undefined,
      }
    : { kind: 'nonResource', verb: str(nra!.verb), path: str(nra!.path) };
  const decision = authorize(user, attrs);
  return {
    code: 201,
    body: {
      kind: KIND,
      apiVersion: API_VERSION,
      metadata: { creationTimestamp: null },
      spec,
      status: decision.reason ? { allowed: decision.allowed, reason: decision.reason } : { allowed: decision.allowed },
    },
  };
}

function err(s: StatusBody) {
  return { code: s.code, body: s };
}
