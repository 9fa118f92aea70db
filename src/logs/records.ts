/**
 * Record assembly: one event often spans several lines (a Go panic and its goroutine dump, a Java stack
 * trace, a Python traceback, a CRI line split into partials, a journal or Windows message that wraps).
 * These rules decide whether a line continues the open record; the record is templated on its head line
 * and kept whole (bounded) as the exemplar. A line only continues a record when the evidence is strong:
 * an ordinary line never joins its predecessor.
 */
import type { Header } from './header.js';
import { SEVERITY_RANK, type Severity } from './severity.js';

/** A record never holds more lines than this; the next line starts a new record. */
export const MAX_RECORD_LINES = 200;
/** Characters of a record kept as its text (exemplar, tail); the lines past it are counted, not kept. */
export const MAX_RECORD_CHARS = 16_000;

/** What kind of multi-line text the record holds, which decides what may follow. */
export const enum Trace {
  None = 0,
  Go = 1,
  Python = 2,
  /** Python traceback that has printed its exception line: only chaining text may follow. */
  PythonDone = 3,
  Java = 4,
  /** Kubernetes utiltrace: "Trace[id]: …" lines after the klog line that opened the trace. */
  K8sTrace = 5,
  /** Node.js uncaught exception: "file.js:N", the source line, a caret, the error and its frames. */
  Node = 6,
}

/** The open record's facts the continuation rules need. */
export interface OpenRecord {
  lines: number;
  /** CRI stream (1/2) or the syslog identifier of the head, undefined for plain lines. */
  source: string | number | undefined;
  /** The last line was a CRI/Docker partial: the next line of the same stream completes it. */
  partial: boolean;
  trace: Trace;
  level: Severity | undefined;
  /** The head's message (for the "did this line log a failure" test, made only when a trace shows up). */
  headMessage: () => string;
}

/** Source of a line for "same writer" checks: its CRI/Docker stream, else its syslog identifier. */
export function sourceOf(h: Header): string | number | undefined {
  if (h.stream) return h.stream;
  return h.bodyStart > 0 && h.jsonBody === undefined ? h.ident : undefined;
}

const NODE_CRASH_HEAD = /^(?:\/|[A-Za-z]:\\|node:)\S*\.?[a-z]*:\d+$/;

/** Trace kind a record's head line starts (by its body, or its message after the header). */
export function traceOfHead(body: string, message: string): Trace {
  if (message.charCodeAt(0) === 84 && message.startsWith('Trace[')) return Trace.K8sTrace;
  const c = body.charCodeAt(0);
  if ((c === 47 || c === 110) && NODE_CRASH_HEAD.test(body)) return Trace.Node;
  if (c === 112 && body.startsWith('panic: ')) return Trace.Go;
  if (c === 102 && body.startsWith('fatal error: ')) return Trace.Go;
  if (c === 103 && isGoroutineHeader(body)) return Trace.Go;
  if (c === 83 && /^SIG[A-Z]+: /.test(body)) return Trace.Go;
  if (c === 84 && body.startsWith('Traceback (most recent call last):')) return Trace.Python;
  if (c === 69 && body.startsWith('Exception in thread ')) return Trace.Java;
  return Trace.None;
}

function isGoroutineHeader(body: string): boolean {
  return body.startsWith('goroutine ') && body.includes(' [') && body.endsWith(':');
}

// "java.lang.IllegalStateException: boom", "com.foo.BarError", "org.x.y.SomeThrowable: …"
const JAVA_EXCEPTION = /^(?:[a-zA-Z_$][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error|Throwable)(?::|$)/;
// "ValueError: x", "requests.exceptions.ConnectionError: …", "KeyboardInterrupt"
const PYTHON_EXCEPTION = /^(?:[A-Za-z_][\w]*\.)*[A-Z][\w]*(?:Error|Exception|Exit|Interrupt|Warning|Failure|Fault|Iteration)?(?::|$)/;
// Go stack frame function line: "main.main()", "net/http.(*conn).serve(0xc000123)", "runtime.gopark(...)"
const GO_FRAME = /^[\w./%*()\-[\]]+\(.*\)$/;

const FAILURE_WORDS = /fail|error|exception|traceback|unable|cannot|crash/i;

/** The head line reported a failure: by its level, or (Python's logexc logs tracebacks at DEBUG) by its words. */
function headReportsFailure(rec: OpenRecord): boolean {
  if (rec.level !== undefined && SEVERITY_RANK[rec.level] <= 2) return true;
  return FAILURE_WORDS.test(rec.headMessage());
}

/**
 * Whether `line` (its header already scanned into `h`) continues `rec`. May update rec.trace (a
 * traceback that follows an error line turns the record into a trace).
 */
export function continuesRecord(rec: OpenRecord, line: string, h: Header): boolean {
  if (rec.lines >= MAX_RECORD_LINES) return false;
  const c0 = line.charCodeAt(0);
  // Indented raw lines: journal and Windows Format-Table continuations, plain-file stack frames.
  if (c0 === 32 || c0 === 9) return true;
  // utiltrace lines carry no header of their own ("Trace[123]: ---\"…\" 12ms").
  if (rec.trace === Trace.K8sTrace) return line.startsWith('Trace[');
  const src = sourceOf(h);
  if (h.found && src !== rec.source) return false;
  if (!h.found && rec.source !== undefined && typeof rec.source === 'number') return false;
  if (rec.partial) return true;
  const text = h.jsonBody ?? line;
  const off = h.jsonBody !== undefined ? 0 : h.bodyStart;
  const b0 = text.charCodeAt(off);
  if (b0 === 9 || b0 === 32) return rec.trace !== Trace.PythonDone;
  if (off >= text.length) return rec.trace !== Trace.None && rec.trace !== Trace.PythonDone;
  // The common case, an ordinary line after an ordinary record, leaves here without a copy or a regex.
  if (rec.trace === Trace.None && b0 !== 67 && !(rec.lines === 1 && (b0 === 84 || (b0 >= 97 && b0 <= 122)))) return false;
  const body = off === 0 ? text : text.slice(off);
  switch (rec.trace) {
    case Trace.Go:
      if (body.startsWith('goroutine ') || body.startsWith('[signal ') || body.startsWith('created by ') || body.startsWith('exit status ') || body.startsWith('panic: ') || body.startsWith('[recovered]')) return true;
      if (body.charCodeAt(body.length - 1) === 41 && GO_FRAME.test(body)) return true;
      if (body.startsWith('rax ') || body.startsWith('r8 ') || body.startsWith('rip ') || body.startsWith('PC=')) return true;
      return false;
    case Trace.Python:
      if (b0 === 84 && body.startsWith('Traceback (most recent call last):')) return true;
      if (PYTHON_EXCEPTION.test(body)) {
        rec.trace = Trace.PythonDone;
        return true;
      }
      return false;
    case Trace.Node:
      return /^(?:[A-Z]\w*)?(?:Error|Exception)\b|^Node\.js v\d|^\s*\^+\s*$|^\[?[A-Z]\w*(?:Error|Exception)/.test(body);
    case Trace.PythonDone:
      // A chained exception: the sentence, then the next traceback. A traceback right after the
      // exception line without the sentence is a new one.
      if (body.startsWith('During handling of the above exception') || body.startsWith('The above exception was the direct cause')) {
        rec.trace = Trace.Python;
        return true;
      }
      return false;
    default:
      break;
  }
  if (b0 === 67 && (body.startsWith('Caused by: ') || body.startsWith('Caused by '))) {
    rec.trace = Trace.Java;
    return true;
  }
  if (rec.lines === 1) {
    // An error line followed by the trace it logged (logger.exception, log.error("…", e)).
    if (b0 === 84 && body.startsWith('Traceback (most recent call last):') && headReportsFailure(rec)) {
      rec.trace = Trace.Python;
      return true;
    }
    if (b0 >= 97 && b0 <= 122 && JAVA_EXCEPTION.test(body) && headReportsFailure(rec)) {
      rec.trace = Trace.Java;
      return true;
    }
  }
  return false;
}
