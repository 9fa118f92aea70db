/**
 * Go fmt / apimachinery field.Error rendering, so kubelet error bodies match upstream byte for byte.
 */

/** strconv.Quote: printable runes kept, the rest escaped the way Go does. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    switch (ch) {
      case '"': out += '\\"'; continue;
      case '\\': out += '\\\\'; continue;
      case '\x07': out += '\\a'; continue;
      case '\b': out += '\\b'; continue;
      case '\f': out += '\\f'; continue;
      case '\n': out += '\\n'; continue;
      case '\r': out += '\\r'; continue;
      case '\t': out += '\\t'; continue;
      case '\v': out += '\\v'; continue;
    }
    if (cp === 0xfffd) { out += ch; continue; }
    if (cp < 0x20 || cp === 0x7f) { out += '\\x' + cp.toString(16).padStart(2, '0'); continue; }
    if (cp >= 0x80 && !isGoPrintable(ch)) {
      out += cp > 0xffff ? '\\U' + cp.toString(16).padStart(8, '0') : '\\u' + cp.toString(16).padStart(4, '0');
      continue;
    }
    out += ch;
  }
  return out + '"';
}

function isGoPrintable(ch: string): boolean {
  // unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
  return /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u.test(ch);
}

/** %#v of a []string. */
export function goStringSliceGoSyntax(values: readonly string[] | null): string {
  if (values === null) return '[]string(nil)';
  return `[]string{${values.map(goQuote).join(', ')}}`;
}

/** %v of a []string. */
export function goStringSliceV(values: readonly string[]): string {
  return `[${values.join(' ')}]`;
}

export type FieldErrorType = 'Invalid value' | 'Required value' | 'Too many';

/** A rendered apimachinery field.Error. `value` is already in its printed form (quoted string, bare int, …). */
export interface FieldError {
  field: string;
  type: FieldErrorType;
  value?: string;
  detail: string;
}

export function invalid(field: string, value: string, detail: string): FieldError {
  return { field, type: 'Invalid value', value, detail };
}

export function required(field: string, detail: string): FieldError {
  return { field, type: 'Required value', detail };
}

export function tooMany(field: string, actual: number, max: number): FieldError {
  return { field, type: 'Too many', value: String(actual), detail: `must have at most ${max} ${max === 1 ? 'item' : 'items'}` };
}

export function fieldErrorString(e: FieldError): string {
  let body: string = e.type;
  if (e.value !== undefined) body += `: ${e.value}`;
  if (e.detail) body += `: ${e.detail}`;
  return `${e.field}: ${body}`;
}

/** ErrorList.ToAggregate().Error(): one error bare, several as "[e1, e2]". */
export function aggregateString(errs: readonly FieldError[]): string {
  const msgs: string[] = [];
  for (const e of errs) {
    const m = fieldErrorString(e);
    if (!msgs.includes(m)) msgs.push(m); // the aggregate dedups identical messages
  }
  return msgs.length === 1 ? msgs[0]! : `[${msgs.join(', ')}]`;
}
