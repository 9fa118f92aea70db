/**
 * An AbortSignal that fires after `ms` (reason: a TimeoutError DOMException, as AbortSignal.timeout gives),
 * or when `parent` fires. Not AbortSignal.timeout() inside AbortSignal.any(): on Node 20 a garbage
 * collection can take the timeout signal, and the deadline then never fires. Here the timer holds its
 * controller until it fires, and is cleared once the signal has fired for any reason.
 */
export function deadlineSignal(ms: number, parent?: AbortSignal): AbortSignal {
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), ms);
  timer.unref();
  const signal = parent ? AbortSignal.any([parent, deadline.signal]) : deadline.signal;
  signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
  return signal;
}

/** `p`, or a rejection with `message` after `ms` (the timer is cleared either way). */
export function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([p, new Promise<never>((_, reject) => (t = setTimeout(() => reject(new Error(message)), ms)))]).finally(() => clearTimeout(t));
}
