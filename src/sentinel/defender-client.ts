/**
 * A small typed client of the Microsoft Defender for Endpoint API, for fetching a sample from a device: find the
 * device by name, run a live response GetFile, poll the machine action (or find it among the device's), get the
 * result's download link and stream the file to disk with its hashes. Every call carries a bearer token from a
 * TokenCredential (scope `https://api.securitycenter.microsoft.com/.default`), retries 429 honouring Retry-After
 * (api/common-errors, Throttling) and transient 5xx, and has limits: a timeout, a JSON size cap, the getfile cap.
 */
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import { request } from "node:https";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { TokenCredential } from "@azure/identity";
import {
  DEFENDER_BASE_URL,
  DEFENDER_SCOPE,
  type DefenderApi,
  DefenderApiError,
  type DefenderFile,
  type DefenderFileStats,
  type DefenderMachine,
  type DownloadedFile,
  DownloadLimitError,
  FINAL_ACTION_STATUSES,
  GETFILE_MAX_BYTES,
  type MachineAction,
} from "./defender-types.js";

interface DefenderClientOptions {
  readonly credential: TokenCredential;
  /** Default `https://api.securitycenter.microsoft.com` (or a regional host, or the emulator). */
  readonly baseUrl?: string;
  readonly scope?: string;
  /** Certificate authority to trust (the emulator's); the system's otherwise. */
  readonly ca?: string;
  /** Retries of a 429 or a 500/502/503/504 (default 6). */
  readonly maxRetries?: number;
  /** The longest Retry-After honoured before giving up (default 300 s). */
  readonly maxRetryAfterSeconds?: number;
  /** Per request (default 60 s; a download: per idle period). */
  readonly timeoutMs?: number;
  /** The largest JSON answer read (default 8 MiB). */
  readonly maxJsonBytes?: number;
  /** How to wait (tests move a clock instead). */
  readonly sleep?: (ms: number) => Promise<void>;
}

interface WaitOptions {
  /** Between polls (default 15 s: get-machineaction-object allows 100 calls per minute per tenant). */
  readonly pollMs?: number;
  /** Give up after (default 3 days and an hour: an offline device's session is queued up to three days). */
  readonly timeoutMs?: number;
}

const RETRIED = new Set([429, 500, 502, 503, 504]);

export class DefenderClient implements DefenderApi {
  private readonly base: string;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: DefenderClientOptions) {
    this.base = (options.baseUrl ?? DEFENDER_BASE_URL).replace(/\/+$/, "");
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** The device whose computerDnsName is `name` (case-insensitive), or undefined (api/get-machines, $filter). */
  async findMachineByName(name: string): Promise<DefenderMachine | undefined> {
    if (name === "" || /[\u0000-\u001f]/.test(name)) throw new Error(`not a device name: ${JSON.stringify(name)}`);
    const filter = `computerDnsName eq ${odataString(name)}`;
    try {
      const page = await this.json<{ value: DefenderMachine[] }>(
        "GET",
        `/api/machines?$filter=${encodeURIComponent(filter)}`,
      );
      return page.value.find((m) => m.computerDnsName.toLowerCase() === name.toLowerCase());
    } catch (error) {
      // api/get-machines: "If there are no recent machines, you see 404 Not Found."
      if (error instanceof DefenderApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** api/run-live-response with one GetFile command for `path`. */
  async runGetFile(machineId: string, path: string, comment: string): Promise<MachineAction> {
    const body = { Commands: [{ type: "GetFile", params: [{ key: "Path", value: path }] }], Comment: comment };
    return this.json<MachineAction>("POST", `/api/machines/${encodeURIComponent(machineId)}/runliveresponse`, body);
  }

  async getAction(actionId: string): Promise<MachineAction> {
    return this.json<MachineAction>("GET", `/api/machineactions/${encodeURIComponent(actionId)}`);
  }

  /**
   * The device's live response actions, the newest `top` (default 100; "`$stop` with max value of 10,000", sic:
   * `$top`): api/get-machineactions-collection, whose `$filter` "is supported on: `id`, `status`, `machineId`,
   * `type`, `requestor`, and `creationDateTimeUtc`"; its Example 2 "shows the latest two MachineActions" with
   * `$top=2`, the newest first.
   */
  async liveResponseActions(machineId: string, top = 100): Promise<MachineAction[]> {
    const filter = `machineId eq ${odataString(machineId)} and type eq 'LiveResponse'`;
    const query = `$filter=${encodeURIComponent(filter)}&$top=${Math.trunc(top)}`;
    return (await this.json<{ value: MachineAction[] }>("GET", `/api/machineactions?${query}`)).value;
  }

  /** api/cancel-machine-action: cancels an action not yet final (e.g. one queued for an offline device). */
  async cancelAction(actionId: string, comment: string): Promise<MachineAction> {
    return this.json<MachineAction>("POST", `/api/machineactions/${encodeURIComponent(actionId)}/cancel`, {
      Comment: comment,
    });
  }

  /** Polls the action until it is final (Succeeded, Failed, TimeOut, Cancelled) or `timeoutMs` passed. */
  async waitForAction(actionId: string, options: WaitOptions = {}): Promise<MachineAction> {
    const pollMs = options.pollMs ?? 15_000;
    const timeoutMs = options.timeoutMs ?? (3 * 24 + 1) * 3_600_000;
    for (let waited = 0; ; waited += pollMs) {
      const action = await this.getAction(actionId);
      if (FINAL_ACTION_STATUSES.includes(action.status)) return action;
      if (waited >= timeoutMs) return action;
      await this.sleep(pollMs);
    }
  }

  /** api/get-live-response-result: a link to command `index`'s result, valid 30 minutes. */
  async resultLink(actionId: string, index: number): Promise<string> {
    const path = `/api/machineactions/${encodeURIComponent(actionId)}/GetLiveResponseResultDownloadLink(index=${index})`;
    return (await this.json<{ value: string }>("GET", path)).value;
  }

  /**
   * Streams command `index`'s result to `filePath` with its hashes. A link refused with 403 (expired) is asked for
   * again ("An expired link can be re-created by another call", api/get-live-response-result), at most `linkTries` times.
   */
  async downloadResult(
    actionId: string,
    index: number,
    filePath: string,
    options: { readonly maxBytes?: number; readonly linkTries?: number } = {},
  ): Promise<DownloadedFile> {
    const tries = options.linkTries ?? 3;
    for (let attempt = 1; ; attempt++) {
      const link = await this.resultLink(actionId, index);
      try {
        return await this.download(link, filePath, options.maxBytes);
      } catch (error) {
        if (!(error instanceof DefenderApiError && error.status === 403) || attempt >= tries) throw error;
      }
    }
  }

  /** Streams a download link (no bearer token: it is a SAS URL) to `filePath`, at most `maxBytes` (default 3 GB). */
  async download(link: string, filePath: string, maxBytes = GETFILE_MAX_BYTES): Promise<DownloadedFile> {
    const url = new URL(link);
    if (url.protocol !== "https:") throw new Error(`refusing a download link that is not HTTPS: ${url.origin}`);
    const response = await this.send("GET", url, undefined, undefined);
    if (response.statusCode !== 200) {
      const text = (await readBody(response, 64 * 1024)).toString("utf8");
      // Azure Storage names its error in the x-ms-error-code header and the XML body's <Code>
      const header = response.headers["x-ms-error-code"];
      const code =
        (Array.isArray(header) ? header[0] : header) ??
        /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ??
        String(response.statusCode);
      throw new DefenderApiError(response.statusCode ?? 0, code, text.slice(0, 500));
    }
    const hashes = { sha256: createHash("sha256"), sha1: createHash("sha1"), md5: createHash("md5") };
    let bytes = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.length;
        if (bytes > maxBytes) return done(new DownloadLimitError(maxBytes));
        for (const hash of Object.values(hashes)) hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(response, meter, createWriteStream(filePath));
    } catch (error) {
      await rm(filePath, { force: true });
      throw error;
    }
    return {
      bytes,
      sha256: hashes.sha256.digest("hex"),
      sha1: hashes.sha1.digest("hex"),
      md5: hashes.md5.digest("hex"),
    };
  }

  /** api/get-file-information, or undefined when Defender does not know the file (404). */
  async fileInfo(hash: string): Promise<DefenderFile | undefined> {
    return this.orUndefined(() => this.json<DefenderFile>("GET", `/api/files/${checkHash(hash)}`));
  }

  /** api/get-file-statistics, or undefined (404). */
  async fileStats(hash: string, lookBackHours?: number): Promise<DefenderFileStats | undefined> {
    const query = lookBackHours === undefined ? "" : `?lookBackHours=${Math.trunc(lookBackHours)}`;
    return this.orUndefined(() => this.json<DefenderFileStats>("GET", `/api/files/${checkHash(hash)}/stats${query}`));
  }

  private async orUndefined<T>(call: () => Promise<T>): Promise<T | undefined> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof DefenderApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** One API call with its bearer token; 429 and transient 5xx retried (Retry-After honoured). */
  private async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const maxRetries = this.options.maxRetries ?? 6;
    const maxWait = (this.options.maxRetryAfterSeconds ?? 300) * 1000;
    for (let attempt = 0; ; attempt++) {
      const token = await this.options.credential.getToken(this.options.scope ?? DEFENDER_SCOPE);
      if (!token) throw new Error("the credential gave no token for the Defender API");
      const response = await this.send(method, new URL(`${this.base}${path}`), token.token, body);
      const status = response.statusCode ?? 0;
      const text = (await readBody(response, this.options.maxJsonBytes ?? 8 * 1024 * 1024)).toString("utf8");
      if (status >= 200 && status < 300) return (text ? JSON.parse(text) : undefined) as T;
      const error = apiError(status, text);
      if (!RETRIED.has(status) || attempt >= maxRetries) throw error;
      const retryAfter = retryAfterMs(response.headers["retry-after"]);
      const wait = retryAfter ?? Math.min(1000 * 2 ** attempt, 30_000);
      if (wait > maxWait) throw error;
      await this.sleep(wait);
    }
  }

  private send(method: string, url: URL, token: string | undefined, body: unknown): Promise<IncomingMessage> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (token) headers.authorization = `Bearer ${token}`;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    if (payload !== undefined) headers["content-type"] = "application/json";
    return new Promise((resolve, reject) => {
      const req = request(url, { method, headers, ...(this.options.ca ? { ca: this.options.ca } : {}) }, resolve);
      req.setTimeout(this.options.timeoutMs ?? 60_000, () =>
        req.destroy(new Error(`${method} ${url.pathname} timed out`)),
      );
      req.on("error", reject);
      req.end(payload);
    });
  }
}

/** An OData string literal: quoted, its single quotes doubled. */
function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

function checkHash(hash: string): string {
  if (!/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i.test(hash))
    throw new Error(`not a SHA-1 or SHA-256: ${JSON.stringify(hash)}`);
  return hash.toLowerCase();
}

/** Retry-After in seconds (api/common-errors) or an HTTP date. */
function retryAfterMs(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function apiError(status: number, text: string): DefenderApiError {
  try {
    const { error } = JSON.parse(text) as { error?: { code?: string; message?: string; target?: string } };
    if (error?.code) return new DefenderApiError(status, error.code, error.message ?? "", error.target);
  } catch {
    // not JSON: kept as text below
  }
  return new DefenderApiError(status, String(status), text.slice(0, 500));
}

async function readBody(response: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      response.destroy();
      throw new Error(`the answer passed its limit of ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
