/**
 * Splits a byte stream into lines without ever holding more than one capped line: newlines are found
 * with Buffer.indexOf(10), partial lines are carried across chunks, and each line is decoded on its own
 * (invalid UTF-8 becomes U+FFFD).
 */

export interface LineSplitterOptions {
  /** Lines longer than this keep a prefix and a marker with their length. */
  maxLineChars: number;
  onLine: (line: string) => void;
}

// Buffer's own UTF-8 decoder without toString's argument handling (a third of the cost of decoding a short
// line); undocumented, so toString stands in where it is missing.
const utf8Slice: ((this: Buffer, start: number, end: number) => string) | undefined = (Buffer.prototype as unknown as { utf8Slice?: (this: Buffer, start: number, end: number) => string }).utf8Slice;

export function truncationMarker(totalBytes: number): string {
  return ` …[line truncated: ${totalBytes} bytes]`;
}

export class LineSplitter {
  private readonly maxLineChars: number;
  /** Bytes of a line kept for decoding: enough for maxLineChars of 4-byte UTF-8. */
  private readonly maxLineBytes: number;
  private readonly onLine: (line: string) => void;
  private carry: Buffer[] = [];
  private carryBytes = 0;
  /** Full length of the partial line, including bytes not kept. */
  private carryTotal = 0;
  linesTruncated = 0;

  constructor(opts: LineSplitterOptions) {
    this.maxLineChars = Math.max(1, opts.maxLineChars);
    this.maxLineBytes = this.maxLineChars * 4;
    this.onLine = opts.onLine;
  }

  push(chunk: Uint8Array): void {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(10, start);
      if (nl === -1) break;
      if (this.carryTotal > 0) {
        this.keep(buf, start, nl);
        this.flushCarry();
      } else {
        this.emit(buf, start, nl, nl - start);
      }
      start = nl + 1;
    }
    if (start < buf.length) this.keep(buf, start, buf.length);
  }

  /** Emits a final line without a trailing newline. */
  end(): void {
    if (this.carryTotal > 0) this.flushCarry();
  }

  /** Forgets an incomplete last line (the byte cap cut it). */
  discardPartial(): void {
    this.carry = [];
    this.carryBytes = 0;
    this.carryTotal = 0;
  }

  private keep(buf: Buffer, from: number, to: number): void {
    this.carryTotal += to - from;
    const room = this.maxLineBytes - this.carryBytes;
    if (room <= 0) return;
    const end = Math.min(to, from + room);
    // Copy: the source chunk may be reused by the producer after this call.
    this.carry.push(Buffer.from(buf.subarray(from, end)));
    this.carryBytes += end - from;
  }

  private flushCarry(): void {
    const joined = this.carry.length === 1 ? this.carry[0]! : Buffer.concat(this.carry, this.carryBytes);
    const total = this.carryTotal;
    this.discardPartial();
    this.emit(joined, 0, joined.length, total);
  }

  private emit(buf: Buffer, start: number, end: number, totalBytes: number): void {
    if (end > start && buf[end - 1] === 13) {
      end--; // CRLF (Windows output)
      totalBytes--;
    }
    let cut = false;
    if (end - start > this.maxLineBytes) {
      end = start + this.maxLineBytes;
      cut = true;
    }
    if (totalBytes > end - start) cut = true;
    if (cut) {
      // Back off to a character boundary so the kept prefix does not end in a broken sequence.
      while (end > start && (buf[end]! & 0xc0) === 0x80) end--;
    }
    let line = utf8Slice !== undefined ? utf8Slice.call(buf, start, end) : buf.toString('utf8', start, end);
    if (line.length > this.maxLineChars) {
      let n = this.maxLineChars;
      const c = line.charCodeAt(n - 1);
      if (c >= 0xd800 && c <= 0xdbff) n--; // do not split a surrogate pair
      line = line.slice(0, n);
      cut = true;
    }
    if (cut) {
      this.linesTruncated++;
      line += truncationMarker(totalBytes);
    }
    this.onLine(line);
  }
}
