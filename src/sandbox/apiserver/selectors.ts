/** Label and field selectors with the syntax and semantics of k8s.io/apimachinery labels.Parse / fields.Parse. */

export type Requirement =
  | { op: 'exists' | '!'; key: string }
  | { op: '=' | '!=' | 'in' | 'notin'; key: string; values: string[] }
  | { op: 'gt' | 'lt'; key: string; value: number };

export class SelectorError extends Error {}

const KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/;
const VALUE = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?)?$/;

function checkKey(key: string): string {
  if (!KEY.test(key) || key.length > 317) {
    throw new SelectorError(`unable to parse requirement: key: Invalid value: ${JSON.stringify(key)}: name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`);
  }
  return key;
}

function checkValue(v: string): string {
  if (!VALUE.test(v) || v.length > 63) {
    throw new SelectorError(`unable to parse requirement: values[0]: Invalid value: ${JSON.stringify(v)}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`);
  }
  return v;
}

/** Splits on commas that are not inside a parenthesised value set. */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

export function parseLabelSelector(selector: string): Requirement[] {
  if (selector.trim() === '') return [];
  return splitTop(selector).map((raw) => {
    const term = raw.trim();
    if (term === '') throw new SelectorError(`found ',', expected: !, identifier, or 'end of string'`);
    let m: RegExpExecArray | null;
    if ((m = /^!\s*(\S+)$/.exec(term))) return { op: '!', key: checkKey(m[1]!) };
    if ((m = /^(\S+?)\s+(in|notin)\s*\((.*)\)$/.exec(term))) {
      const values = m[3]!.split(',').map((v) => checkValue(v.trim()));
      return { op: m[2] as 'in' | 'notin', key: checkKey(m[1]!), values };
    }
    if ((m = /^([^=!<>\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term))) {
      return { op: m[2] === '!=' ? '!=' : '=', key: checkKey(m[1]!), values: [checkValue(m[3]!)] };
    }
    if ((m = /^([^=!<>\s]+)\s*([<>])\s*(-?\d+)$/.exec(term))) {
      return { op: m[2] === '>' ? 'gt' : 'lt', key: checkKey(m[1]!), value: Number(m[3]) };
    }
    if (/^[^=!<>\s()]+$/.test(term)) return { op: 'exists', key: checkKey(term) };
    throw new SelectorError(`unable to parse requirement: found '${term}', expected: in, notin, =, ==, !=, gt, lt`);
  });
}

export function matchesLabels(reqs: Requirement[], labels: Record<string, string>): boolean {
  return reqs.every((r) => {
    const has = Object.hasOwn(labels, r.key);
    const v = labels[r.key];
    switch (r.op) {
      case 'exists':
        return has;
      case '!':
        return !has;
      case '=':
      case 'in':
        return has && r.values.includes(v!);
      case '!=':
      case 'notin':
        return !has || !r.values.includes(v!);
      case 'gt':
      case 'lt': {
        const n = Number(v);
        if (!has || !/^-?\d+$/.test(v!)) return false;
        return r.op === 'gt' ? n > r.value : n < r.value;
      }
    }
  });
}

export interface FieldRequirement {
  field: string;
  negate: boolean;
  value: string;
}

/** Node field selectors the apiserver supports (pkg/registry/core/node NodeToSelectableFields). */
const NODE_FIELDS = ['metadata.name', 'spec.unschedulable'];

export function parseFieldSelector(selector: string): FieldRequirement[] {
  if (selector.trim() === '') return [];
  return selector.split(',').map((term) => {
    const m = /^([^=!]+?)\s*(==|=|!=)\s*(.*)$/.exec(term.trim());
    if (!m) throw new SelectorError(`invalid selector: '${selector}'; can't understand '${term}'`);
    if (!NODE_FIELDS.includes(m[1]!)) throw new SelectorError(`field label not supported: ${m[1]}`);
    return { field: m[1]!, negate: m[2] === '!=', value: m[3]! };
  });
}

export function matchesFields(reqs: FieldRequirement[], fields: Record<string, string>): boolean {
  return reqs.every((r) => (fields[r.field] === r.value) !== r.negate);
}
