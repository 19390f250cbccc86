/** How long a training loop computes, by default, before it gives the event loop a turn. */
export const DEFAULT_YIELD_EVERY_MS = 10;

/**
 * Returns the check a training loop runs after every batch: a promise to await once `budgetMs`
 * have passed since the last turn it gave the event loop, else undefined.
 *
 * Why: training runs for minutes on the thread that also answers a page's messages (a web
 * worker's Stop, a main thread's frames) or renews a Node job queue's lock (timers, sockets).
 * Between batches the loop therefore leaves the event loop a macrotask turn; awaiting a resolved
 * promise is no such turn, microtasks run before any message or timer. On Node a turn costs
 * about 2 µs (bench/yield-overhead.mjs), but in a browser it is a task that may wait behind
 * rendering and other messages, and a timer is clamped to 4 ms, where one step of a small model
 * takes 0.1–0.5 ms: a turn after every batch could cost more than the training. So the loop
 * yields only once the budget is spent, which is after every batch when batches are slower than
 * the budget. The check itself is one clock read; nothing is awaited when no turn is due.
 */
export function eventLoopTurns(budgetMs: number = DEFAULT_YIELD_EVERY_MS): () => Promise<void> | undefined {
  let last = performance.now();
  return () => {
    if (performance.now() - last < budgetMs) return undefined;
    return nextMacrotask().then(() => {
      last = performance.now();
    });
  };
}

/**
 * Resolves in a later macrotask: `setImmediate` on Node (after pending I/O, without the timer
 * clamp), a MessageChannel message in browsers and workers (not clamped either), else a timer.
 */
function nextMacrotask(): Promise<void> {
  return new Promise((resolve) => {
    const scope = globalThis as { setImmediate?: (callback: () => void) => unknown };
    if (typeof scope.setImmediate === 'function') {
      scope.setImmediate(resolve);
    } else if (typeof MessageChannel === 'function') {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => {
        channel.port1.close();
        resolve();
      };
      channel.port2.postMessage(null);
    } else {
      setTimeout(resolve, 0);
    }
  });
}
