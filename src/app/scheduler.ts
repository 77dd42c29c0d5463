/**
 * The in-process hunt schedule of `shmhunt serve` and `shmhunt hunt`: a tick every `intervalMs`, never two at once,
 * stoppable. Its timer does not hold the process open (the server does) unless `keepAlive` is set: `shmhunt hunt`
 * has nothing else to hold it, and would end before the first tick.
 */

export interface Schedule {
  /** Stops ticking and waits for the tick in progress. */
  stop(): Promise<void>;
}

export function startSchedule(
  intervalMs: number,
  tick: () => Promise<unknown>,
  onError: (error: unknown) => void,
  options: { readonly keepAlive?: boolean } = {},
): Schedule {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();
  const schedule = (delay: number) => {
    if (stopped) return;
    timer = setTimeout(() => {
      const started = Date.now();
      current = tick()
        .then(
          () => undefined,
          (error: unknown) => onError(error),
        )
        // The next tick `intervalMs` after this one began (its own time counted in, so the rate holds: docs/service.md,
        // "ticks every 1m"), at once if it took longer; within 0..intervalMs whatever the wall clock did meanwhile.
        .finally(() => schedule(Math.min(intervalMs, Math.max(0, intervalMs - (Date.now() - started)))));
    }, delay);
    if (!options.keepAlive) timer.unref?.();
  };
  schedule(0);
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await current;
    },
  };
}
