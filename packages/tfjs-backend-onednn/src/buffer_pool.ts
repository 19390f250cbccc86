/**
 * Reuses the Float32Arrays of disposed tensors for new kernel outputs.
 *
 * A fresh large Float32Array costs a zero-fill and a page fault per 4 KiB on first touch, often more
 * than the kernel that fills it, and dead arrays wait for V8's garbage collector, which inflates
 * the resident set. The pool hands out only arrays it allocated itself, and takes one back only when
 * it is certain nobody can still see it:
 * - every tensor entry holding the array, or a view of it (cpu `Slice` returns `subarray` views,
 *   `Reshape` shares data), counts as a reference, by ArrayBuffer;
 * - an array handed out by `readSync` (`dataSync()`, `data()`, `bufferSync`) may be held by user code
 *   forever, so it escapes the pool for good.
 * Arrays come back uninitialized: every kernel that takes one writes all of it.
 */
export class BufferPool {
  private readonly free = new Map<number, Float32Array[]>();
  /** Live references per pool-owned buffer; a buffer absent from this map is not the pool's. */
  private readonly references = new WeakMap<ArrayBufferLike, number>();
  private freeBytes = 0;
  /** Takes from the pool, news and returns; for tests and `stats()`. */
  private counts = { reused: 0, allocated: 0, escaped: 0, dropped: 0 };

  /** @param limitBytes the most bytes kept on free lists; what comes back beyond it is left to the GC. */
  constructor(readonly limitBytes: number) {}

  /** A Float32Array of `length` elements with unspecified contents. */
  take(length: number): Float32Array {
    const list = this.free.get(length);
    const reused = list?.pop();
    let array: Float32Array;
    if (reused !== undefined) {
      this.freeBytes -= reused.byteLength;
      this.counts.reused++;
      array = reused;
    } else {
      array = new Float32Array(length);
      this.counts.allocated++;
    }
    // Owned and not yet referenced: a kernel that takes an array and throws before storing it
    // simply drops it.
    this.references.set(array.buffer, 0);
    return array;
  }

  /** A tensor entry now holds `values`. */
  retain(values: unknown): void {
    const buffer = bufferOf(values);
    if (buffer === null) return;
    const count = this.references.get(buffer);
    if (count !== undefined) this.references.set(buffer, count + 1);
  }

  /** A tensor entry that held `values` is gone; the last one returns the array to the pool. */
  release(values: unknown): void {
    const buffer = bufferOf(values);
    if (buffer === null) return;
    const count = this.references.get(buffer);
    if (count === undefined) return;
    if (count > 1) {
      this.references.set(buffer, count - 1);
      return;
    }
    this.references.delete(buffer);
    const array = new Float32Array(buffer);
    if (this.freeBytes + array.byteLength > this.limitBytes) {
      this.counts.dropped++;
      return;
    }
    const list = this.free.get(array.length);
    if (list === undefined) this.free.set(array.length, [array]);
    else list.push(array);
    this.freeBytes += array.byteLength;
  }

  /** `values` was handed to code outside the backend: never reuse its buffer. */
  escape(values: unknown): void {
    const buffer = bufferOf(values);
    if (buffer !== null && this.references.delete(buffer)) this.counts.escaped++;
  }

  /** Drops every free array (the GC reclaims them). */
  clear(): void {
    this.free.clear();
    this.freeBytes = 0;
  }

  stats(): { reused: number; allocated: number; escaped: number; dropped: number; freeBytes: number } {
    return { ...this.counts, freeBytes: this.freeBytes };
  }
}

function bufferOf(values: unknown): ArrayBufferLike | null {
  return ArrayBuffer.isView(values) ? values.buffer : null;
}
