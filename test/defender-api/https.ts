/** Raw HTTPS calls to the emulator's Defender routes (no SDK: the wire is what these tests look at). */
import { request } from "node:https";
import type { Emulator } from "../emulator/server.js";

export const DEFENDER_SCOPE = "https://api.securitycenter.microsoft.com/.default";

export interface RawAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly bytes: Buffer;
  /** The body parsed as JSON, when it is JSON. */
  // biome-ignore lint/suspicious/noExplicitAny: wire JSON whose shape is exactly what the tests assert
  readonly json: any;
}

export async function defenderToken(emulator: Emulator, scope = DEFENDER_SCOPE): Promise<string> {
  return (await emulator.credential.getToken(scope)).token;
}

/** `path` is relative to the emulator's origin, or a full URL (a download link). */
export function call(
  emulator: Emulator,
  method: string,
  path: string,
  options: { token?: string; body?: unknown } = {},
): Promise<RawAnswer> {
  const url = path.startsWith("https://") ? path : `${emulator.url}${path}`;
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  return new Promise((resolve, reject) => {
    const req = request(url, { method, ca: emulator.ca, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const bytes = Buffer.concat(chunks);
        const isJson = String(res.headers["content-type"] ?? "").includes("json");
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          bytes,
          json: isJson && bytes.length > 0 ? JSON.parse(bytes.toString("utf8")) : undefined,
        });
      });
    });
    req.on("error", reject);
    req.end(options.body === undefined ? undefined : JSON.stringify(options.body));
  });
}

/** A GetFile live response body as api/run-live-response shows it. */
export function getFileBody(path: string, comment = "shmhunt sample"): unknown {
  return { Commands: [{ type: "GetFile", params: [{ key: "Path", value: path }] }], Comment: comment };
}
