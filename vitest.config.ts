import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Safety nets against a hang, not speed targets (those are in bench/): wide enough for a loaded CI machine,
    // where the slowest tests without their own timeout took 35 to 47 s at load 10 on 2 cores.
    testTimeout: 180_000,
    hookTimeout: 240_000,
    pool: "forks",
    globalSetup: ["test/support/global-setup.ts"],
    reporters: ["default"],
  },
});
