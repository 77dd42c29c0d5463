/**
 * Work in flight whose results are taken in the order they complete: how a directory scan yields its verdicts as
 * the worker's replies arrive, while it goes on handing out files.
 */
export class Completions<T> {
  #inflight = 0;
  readonly #done: T[] = [];
  #wake: (() => void) | undefined;

  /** Results not settled yet. */
  get inflight(): number {
    return this.#inflight;
  }

  /** Whether a settled result waits to be taken. */
  get hasDone(): boolean {
    return this.#done.length > 0;
  }

  /** One more result in flight; a rejection settles as `onError` makes of it. */
  add(result: Promise<T>, onError: (error: unknown) => T): void {
    this.#inflight++;
    result.then(
      (value) => this.#settle(value),
      (error: unknown) => this.#settle(onError(error)),
    );
  }

  /** The results settled so far, in the order they settled. */
  *take(): Generator<T> {
    while (this.#done.length > 0) yield this.#done.shift() as T;
  }

  /** Resolves when a result is waiting to be taken (at once if one is). */
  oneSettled(): Promise<void> {
    if (this.#done.length > 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#wake = resolve;
    });
  }

  /** Every result still to come, as each settles. */
  async *rest(): AsyncGenerator<T> {
    while (this.#inflight > 0 || this.#done.length > 0) {
      await this.oneSettled();
      yield* this.take();
    }
  }

  #settle(value: T): void {
    this.#inflight--;
    this.#done.push(value);
    this.#wake?.();
    this.#wake = undefined;
  }
}
