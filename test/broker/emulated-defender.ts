/** The Defender API client's settings for the test emulator, shared by the broker's suites. */
import type { DefenderClient } from "../../src/sentinel/defender-client.js";
import type { Fault } from "../emulator/faults.js";
import type { Emulator } from "../emulator/server.js";

/**
 * As compose builds the client for SHMHUNT_SAMPLE_BROKER=defender (two retries, Retry-After up to a minute), against
 * the emulator, its waits spent on the test's clock (`advance` moves it).
 */
export function emulatedDefender(
  emulator: Emulator,
  advance: (ms: number) => void,
): ConstructorParameters<typeof DefenderClient>[0] {
  return {
    credential: emulator.credential,
    baseUrl: emulator.url,
    ca: emulator.ca,
    maxRetries: 2,
    maxRetryAfterSeconds: 60,
    sleep: async (ms) => advance(ms),
  };
}

/**
 * The download links of GetFile results refused `count` times as Azure Storage refuses an expired one (403
 * AuthenticationFailed; get-live-response-result: "This link is valid for 30 minutes").
 */
export function expiredDownloadLinks(count: number): Fault {
  return {
    api: "defender",
    path: "/defender-results/",
    kind: "status",
    status: 403,
    code: "AuthenticationFailed",
    count,
  };
}
