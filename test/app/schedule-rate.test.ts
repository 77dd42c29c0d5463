/**
 * The in-process hunt schedule (src/app/scheduler.ts) of `shmhunt serve` and `shmhunt hunt`.
 *
 * Oracle: docs/service.md, Settings: `SHMHUNT_HUNT_TICK` is "`serve`'s scheduler tick" and with `0` "`shmhunt hunt`,
 * which is the schedule, then ticks every `1m`"; "Rescan when the YARA rules change": "the server's schedule and
 * `shmhunt hunt` every `SHMHUNT_HUNT_TICK`"; the module's own contract: "a tick every `intervalMs`, never two at once".
 * A tick that takes 10 s of a 60 s schedule must not push every later tick back by 10 s (drift).
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { startSchedule } from "../../src/app/scheduler.js";

afterEach(() => {
  vi.useRealTimers();
});

describe("the hunt schedule keeps its rate", () => {
  it("starts a tick every SHMHUNT_HUNT_TICK (60 s) when each tick takes 10 s, without drifting", async () => {
    vi.useFakeTimers({ now: 0 });
    const starts: number[] = [];
    const schedule = startSchedule(
      60_000,
      async () => {
        starts.push(Date.now());
        await new Promise((resolve) => setTimeout(resolve, 10_000)); // the tick's hunts take 10 s
      },
      (error) => {
        throw error;
      },
    );
    await vi.advanceTimersByTimeAsync(5 * 60_000 + 1_000);
    await vi.advanceTimersByTimeAsync(0);
    const stopped = schedule.stop();
    await vi.runAllTimersAsync();
    await stopped;
    // Ticks at 0, 1, 2, 3, 4 and 5 minutes (each still runs alone: 10 s < 60 s).
    expect(starts).toEqual([0, 60_000, 120_000, 180_000, 240_000, 300_000]);
  });
});
