/**
 * shmhunt's version, as `shmhunt --version`, `GET /health` and the OpenAPI document report it: package.json's
 * `version` (test/app/version.test.ts checks that they agree).
 */
export const VERSION = "0.1.0";
