/**
 * Just enough of the Kubernetes protobuf wire format to read a SelfSubjectAccessReview: kubectl (client-go's
 * typed clients) POSTs `application/vnd.kubernetes.protobuf` for it. Answers still go out as JSON, which
 * those clients also accept.
 */

export class ProtobufError extends Error {}

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]); // "k8s\0"

type Fields = Map<number, Array<Buffer | bigint>>;

function readVarint(buf: Buffer, pos: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) throw new ProtobufError('truncated varint');
    const b = buf[pos++]!;
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [result, pos];
    shift += 7n;
  }
  throw new ProtobufError('varint too long');
}

function parseFields(buf: Buffer): Fields {
  const out: Fields = new Map();
  let pos = 0;
  while (pos < buf.length) {
    const [key, p1] = readVarint(buf, pos);
    pos = p1;
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    let value: Buffer | bigint;
    if (wire === 0) {
      [value, pos] = readVarint(buf, pos);
    } else if (wire === 2) {
      const [len, p2] = readVarint(buf, pos);
      const end = p2 + Number(len);
      if (len > BigInt(buf.length) || end > buf.length) throw new ProtobufError('truncated length-delimited field');
      value = buf.subarray(p2, end);
      pos = end;
    } else if (wire === 1 || wire === 5) {
      const n = wire === 1 ? 8 : 4;
      if (pos + n > buf.length) throw new ProtobufError('truncated fixed field');
      value = buf.subarray(pos, pos + n);
      pos += n;
    } else {
      throw new ProtobufError(`unsupported wire type ${wire}`);
    }
    const list = out.get(field) ?? [];
    list.push(value);
    out.set(field, list);
  }
  return out;
}

function bytesField(f: Fields, n: number): Buffer | undefined {
  const v = f.get(n)?.at(-1);
  return Buffer.isBuffer(v) ? v : undefined;
}

function stringFields(f: Fields, names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  names.forEach((name, i) => {
    const v = bytesField(f, i + 1)?.toString('utf8');
    if (v) out[name] = v; // JSON omits empty strings; keep the echo identical in both encodings
  });
  return out;
}

/** Decodes a protobuf SelfSubjectAccessReview into the JSON shape the review logic reads. */
export function decodeSelfSubjectAccessReview(body: Buffer): Record<string, unknown> {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) throw new ProtobufError('provided data does not have the Kubernetes protobuf prefix');
  const unknown = parseFields(body.subarray(4));
  const typeMeta = stringFields(parseFields(bytesField(unknown, 1) ?? Buffer.alloc(0)), ['apiVersion', 'kind']);
  const review = parseFields(bytesField(unknown, 2) ?? Buffer.alloc(0));
  const spec = parseFields(bytesField(review, 2) ?? Buffer.alloc(0));
  const out: Record<string, unknown> = { ...typeMeta, spec: {} };
  const ra = bytesField(spec, 1);
  const nra = bytesField(spec, 2);
  const s = out.spec as Record<string, unknown>;
  if (ra) s.resourceAttributes = stringFields(parseFields(ra), ['namespace', 'verb', 'group', 'version', 'resource', 'subresource', 'name']);
  if (nra) s.nonResourceAttributes = stringFields(parseFields(nra), ['path', 'verb']);
  return out;
}
