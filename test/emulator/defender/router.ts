/**
 * The Defender for Endpoint routes the sample broker uses, under `/api` (the docs write both `/api` and `/API`, so
 * paths are case-insensitive): machines, machine actions (one, or the list), live response (GetFile), its result
 * download link, and files with their statistics. Each route's facts cite its page on learn.microsoft.com/defender-endpoint/api/.
 * The download link itself is served under `/defender-results/{token}` with no bearer token, like a blob SAS URL.
 */
import {
  FILE_STATS_MAX_LOOKBACK_HOURS,
  LIVE_RESPONSE_COMMAND_ORDER,
  LIVE_RESPONSE_RATE,
  MACHINE_ACTIONS_QUERY,
  MACHINES_QUERY,
  MAX_CONCURRENT_LIVE_RESPONSE_SESSIONS,
  type ODataCollection,
  READ_API_RATE,
} from "./limits.js";
import { matchesFilter, parseFilter } from "./odata.js";
import type { DefenderState, LiveResponseCommand, Machine, MachineAction } from "./state.js";
import { DefenderFailure, type DefenderReply, defenderError, expiredSas, failWith, tooManyRequests } from "./wire.js";

export interface DefenderCall {
  readonly method: string;
  readonly url: URL;
  readonly body: unknown;
}

export interface DefenderContext {
  readonly state: DefenderState;
  /** `https://127.0.0.1:<port>`: the base of `@odata.context` and of download links. */
  readonly origin: string;
}

export const DOWNLOAD_PREFIX = "/defender-results/";

export function handleDefender(call: DefenderCall, context: DefenderContext): DefenderReply {
  try {
    return route(call, context);
  } catch (error) {
    if (error instanceof DefenderFailure) return error.reply;
    throw error;
  }
}

function route(call: DefenderCall, context: DefenderContext): DefenderReply {
  const { state } = context;
  const segments = call.url.pathname
    .split("/")
    .filter((s) => s !== "")
    .map((s) => decodeURIComponent(s));
  const lower = segments.map((s) => s.toLowerCase());
  const method = call.method.toUpperCase();
  const metadata = (what: string) => `${context.origin}/api/$metadata#${what}`;

  // api/run-live-response: POST /api/machines/{machine_id}/runliveresponse
  if (method === "POST" && lower.length === 4 && lower[1] === "machines" && lower[3] === "runliveresponse") {
    throttle(state, "runliveresponse", LIVE_RESPONSE_RATE);
    const machine = findMachine(state, segments[2] ?? "");
    const { commands, comment, externalId } = readLiveResponseBody(call.body);
    // api/run-live-response, Limitations 8: one live response session per machine
    if (state.activeActions(machine.id).length > 0) {
      failWith(
        defenderError(
          "ActiveRequestAlreadyExists",
          `Machine ${machine.id} already has an active live response action; live response commands can't be queued up.`,
        ),
      );
    }
    // api/run-live-response, Limitations 2: 25 concurrently running sessions, more get "429 - Too many requests"
    if (state.activeActions().length >= MAX_CONCURRENT_LIVE_RESPONSE_SESSIONS) {
      return tooManyRequests(
        60,
        `At most ${MAX_CONCURRENT_LIVE_RESPONSE_SESSIONS} live response sessions can run at once.`,
      );
    }
    const action = state.createAction(machine, commands, comment, externalId);
    // "If successful, this method returns 201 Created" with the Action entity
    return { status: 201, body: { "@odata.context": metadata("MachineActions/$entity"), ...actionJson(action) } };
  }

  // api/cancel-machine-action: POST /api/machineactions/{id}/cancel with {"Comment"}; 200 with the action, 404;
  // "100 calls per minute and 1500 calls per hour"
  if (method === "POST" && lower.length === 4 && lower[1] === "machineactions" && lower[3] === "cancel") {
    throttle(state, "cancel", READ_API_RATE);
    const action = findAction(state, segments[2] ?? "");
    const comment = (call.body as { Comment?: unknown } | undefined)?.Comment;
    if (typeof comment !== "string" || comment === "") {
      return defenderError("MissingRequiredParameter", "Parameter Comment is missing.");
    }
    // "Cancel an already launched machine action that isn't yet in final state"; the answer for a final one is not
    // documented (400 here)
    if (!state.cancel(action, comment)) {
      return defenderError("BadRequest", `Action ${action.id} is already ${action.status} and cannot be cancelled.`);
    }
    return { status: 200, body: { "@odata.context": metadata("MachineActions/$entity"), ...actionJson(action) } };
  }

  if (method !== "GET") return defenderError("NotFound", `No route for ${call.method} ${call.url.pathname}.`, 404);
  throttle(state, "read", READ_API_RATE);

  // api/get-machines: GET /api/machines with $filter, $top (max 10,000) and $skip
  if (lower.length === 2 && lower[1] === "machines") {
    const machines = [...state.machines.values()].map(machineJson);
    // "If there are no recent machines, you see 404 Not Found."
    if (machines.length === 0) return defenderError("NotFound", "No machines were found.", 404);
    const value = listPage(call.url.searchParams, machines, MACHINES_QUERY);
    return { status: 200, body: { "@odata.context": metadata("Machines"), value } };
  }

  // api/get-machineactions-collection: GET /api/machineactions with $filter, $top (max 10,000) and $skip; "returns
  // 200, Ok response code with a collection of machineAction entities", each as get-machineaction-object gives it.
  // Newest first: Example 2 "filters the MachineActions by machine ID and shows the latest two" with `$top=2`.
  if (lower.length === 2 && lower[1] === "machineactions") {
    const actions = [...state.actions.values()]
      .reverse()
      .map((a) => state.advance(a))
      .sort((a, b) => b.createdAt - a.createdAt)
      .map(actionJson);
    const value = listPage(call.url.searchParams, actions, MACHINE_ACTIONS_QUERY);
    return { status: 200, body: { "@odata.context": metadata("MachineActions"), value } };
  }

  // api/get-machine-by-id: GET /api/machines/{id}
  if (lower.length === 3 && lower[1] === "machines") {
    const machine = findMachine(state, segments[2] ?? "");
    return { status: 200, body: { "@odata.context": metadata("Machines/$entity"), ...machineJson(machine) } };
  }

  // api/get-machineaction-object: GET /api/machineactions/{id}, 404 when not found
  if (lower.length === 3 && lower[1] === "machineactions") {
    const action = findAction(state, segments[2] ?? "");
    return { status: 200, body: { "@odata.context": metadata("MachineActions/$entity"), ...actionJson(action) } };
  }

  // api/get-live-response-result: GET /api/machineactions/{id}/GetLiveResponseResultDownloadLink(index={n})
  const linkMatch = /^getliveresponseresultdownloadlink\(index=(\d+)\)$/.exec(lower[3] ?? "");
  if (lower.length === 4 && lower[1] === "machineactions" && linkMatch) {
    const action = findAction(state, segments[2] ?? "");
    const index = Number(linkMatch[1]);
    const entry = action.commands[index];
    if (!entry) return defenderError("ResourceNotFound", `Action ${action.id} has no command at index ${index}.`);
    // not documented: a result exists only once its command completed (see docs/emulator.md)
    if (entry.status !== "Completed" || !entry.result) {
      return defenderError(
        "BadRequest",
        `Command ${index} of action ${action.id} has no result (action ${action.status}, command ${entry.status}).`,
      );
    }
    const link = state.createLink(action.id, index);
    const query = new URLSearchParams({
      st: link.start.toISOString().replace(/\.\d{3}Z$/, "Z"),
      se: link.expiry.toISOString().replace(/\.\d{3}Z$/, "Z"),
      sp: "r",
      sv: "2019-07-07",
      sr: "b",
      sig: link.signature,
    });
    const value = `${context.origin}${DOWNLOAD_PREFIX}${link.token}?${query}`;
    return { status: 200, body: { "@odata.context": metadata("Edm.String"), value } };
  }

  // api/get-file-information: GET /api/files/{sha1|sha256}; api/get-file-statistics: GET /api/files/{id}/stats
  if ((lower.length === 3 || (lower.length === 4 && lower[3] === "stats")) && lower[1] === "files") {
    const hash = segments[2] ?? "";
    if (!/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i.test(hash)) {
      return defenderError("InvalidHashValue", `Hash value ${hash} is invalid.`);
    }
    const profile = state.fileProfile(hash);
    if (!profile) return defenderError("NotFound", `File ${hash} was not found.`, 404);
    if (lower.length === 3) {
      const { md5: _md5, organizationPrevalence, orgFirstSeen, orgLastSeen, topFileNames, ...file } = profile;
      return { status: 200, body: { "@odata.context": metadata("Files/$entity"), ...file } };
    }
    // the statistics window itself is not modelled; its bound is
    readCount(
      call.url.searchParams.get("lookBackHours"),
      "lookBackHours",
      FILE_STATS_MAX_LOOKBACK_HOURS,
      "InvalidInput",
    );
    // the response example's names: "organizationPrevalence", "globallyPrevalence" (not globalPrevalence) ...
    return {
      status: 200,
      body: {
        "@odata.context": metadata("microsoft.windowsDefenderATP.api.InOrgFileStats"),
        sha1: profile.sha1,
        organizationPrevalence: profile.organizationPrevalence,
        orgFirstSeen: profile.orgFirstSeen,
        orgLastSeen: profile.orgLastSeen,
        globallyPrevalence: profile.globalPrevalence,
        globalFirstObserved: profile.globalFirstObserved,
        globalLastObserved: profile.globalLastObserved,
        topFileNames: profile.topFileNames,
      },
    };
  }

  return defenderError("NotFound", `No route for ${call.method} ${call.url.pathname}.`, 404);
}

/** The blob behind a download link: its bytes while the link is valid, Azure Storage's 403 once it expired. */
export function handleDownload(url: URL, state: DefenderState): DefenderReply {
  const token = url.pathname.slice(DOWNLOAD_PREFIX.length);
  const link = state.links.get(token);
  const notFound: DefenderReply = {
    status: 404,
    raw: {
      contentType: "application/xml",
      data: Buffer.from(
        '<?xml version="1.0" encoding="utf-8"?><Error><Code>BlobNotFound</Code><Message>The specified blob does not exist.</Message></Error>',
      ),
    },
    headers: { "x-ms-error-code": "BlobNotFound" },
  };
  if (!link || url.searchParams.get("sig") !== link.signature) return notFound;
  const now = new Date(state.now());
  if (now.getTime() > link.expiry.getTime()) return expiredSas(link.start, link.expiry, now);
  const result = state.actions.get(link.actionId)?.commands[link.index]?.result;
  if (!result) return notFound;
  return { status: 200, raw: { contentType: "application/octet-stream", data: result } };
}

function throttle(state: DefenderState, family: string, limits: Parameters<DefenderState["throttle"]>[1]): void {
  const wait = state.throttle(family, limits);
  if (wait !== undefined) {
    failWith(tooManyRequests(wait, "The request was throttled: too many calls for this API in its time window."));
  }
}

function findMachine(state: DefenderState, id: string): Machine {
  const machine =
    state.machines.get(id) ?? [...state.machines.values()].find((m) => m.id.toLowerCase() === id.toLowerCase());
  // common-errors example: {"code":"ResourceNotFound","message":"Machine 123123123 was not found"}
  return machine ?? failWith(defenderError("ResourceNotFound", `Machine ${id} was not found`));
}

function findAction(state: DefenderState, id: string): MachineAction {
  const action = state.actions.get(id.toLowerCase()) ?? state.actions.get(id);
  return action
    ? state.advance(action)
    : failWith(defenderError("ResourceNotFound", `MachineAction ${id} was not found`));
}

/** A List API's page: `$filter` on the collection's documented properties, then `$skip`, then `$top`. */
function listPage(
  params: URLSearchParams,
  entities: readonly Record<string, unknown>[],
  collection: ODataCollection,
): Record<string, unknown>[] {
  const top = readCount(params.get("$top"), "$top", collection.maxTop);
  const skip = readCount(params.get("$skip"), "$skip", Number.MAX_SAFE_INTEGER) ?? 0;
  const filterText = params.get("$filter");
  const filter = filterText === null ? undefined : parseFilter(filterText, collection);
  if (typeof filter === "string") failWith(defenderError("ODataError", filter));
  const found = filter === undefined ? entities : entities.filter((e) => matchesFilter(e, filter));
  return found.slice(skip, top === undefined ? undefined : skip + top);
}

function readCount(
  text: string | null,
  name: string,
  max: number,
  code: "ODataError" | "InvalidInput" = "ODataError",
): number | undefined {
  if (text === null) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value > max) {
    failWith(defenderError(code, `${name} must be an integer between 0 and ${max}, got '${text}'.`));
  }
  return value;
}

/**
 * api/run-live-response, Request body: `Commands` (PutFile, RunScript, GetFile "in this order") and `Comment`;
 * GetFile takes `Path`. common-errors: "The submitted body parameters are currently case-sensitive"
 * (InvalidRequestBody, MissingRequiredParameter). The emulator runs GetFile only; the other two are refused.
 */
function readLiveResponseBody(body: unknown): {
  commands: LiveResponseCommand[];
  comment: string;
  externalId?: string;
} {
  const bad = (message: string) => failWith(defenderError("InvalidRequestBody", message));
  if (typeof body !== "object" || body === null || Array.isArray(body)) bad("The request body must be a JSON object.");
  const record = body as Record<string, unknown>;
  const unknownKey = Object.keys(record).find((k) => !["Commands", "Comment", "ExternalId"].includes(k));
  if (unknownKey)
    bad(`Unknown body parameter '${unknownKey}' (body parameters are case-sensitive: Commands, Comment).`);
  if (!Array.isArray(record.Commands) || record.Commands.length === 0) {
    failWith(defenderError("MissingRequiredParameter", "Parameter Commands is missing."));
  }
  if (record.Comment !== undefined && typeof record.Comment !== "string") bad("Comment must be a string.");
  const commands: LiveResponseCommand[] = [];
  let lastRank = 0;
  for (const [i, raw] of (record.Commands as unknown[]).entries()) {
    const command = raw as { type?: unknown; params?: unknown };
    const rank = LIVE_RESPONSE_COMMAND_ORDER.indexOf(command?.type as (typeof LIVE_RESPONSE_COMMAND_ORDER)[number]);
    if (rank < 0) bad(`Commands[${i}].type must be one of ${LIVE_RESPONSE_COMMAND_ORDER.join(", ")}.`);
    if (rank < lastRank) bad(`Commands must be in the order ${LIVE_RESPONSE_COMMAND_ORDER.join(", ")}.`);
    lastRank = rank;
    if (command.type !== "GetFile") {
      bad(`Commands[${i}]: the shmhunt emulator runs GetFile only, not ${String(command.type)}.`);
    }
    const params = Array.isArray(command.params) ? command.params : [];
    const valid = params.every(
      (p: unknown) =>
        typeof (p as { key?: unknown })?.key === "string" && typeof (p as { value?: unknown })?.value === "string",
    );
    if (!valid) bad(`Commands[${i}].params must be a list of {"key","value"} strings.`);
    const typed = params as { key: string; value: string }[];
    if (!typed.some((p) => p.key === "Path" && p.value !== "")) {
      failWith(defenderError("MissingRequiredParameter", `Parameter Path is missing in Commands[${i}].`));
    }
    commands.push({ type: "GetFile", params: typed.map((p) => ({ key: p.key, value: p.value })) });
  }
  const externalId = typeof record.ExternalId === "string" ? record.ExternalId : undefined;
  return { commands, comment: (record.Comment as string | undefined) ?? "", ...(externalId ? { externalId } : {}) };
}

/** api/machine, Properties; field set of the api/get-machines response example. */
function machineJson(machine: Machine): Record<string, unknown> {
  return {
    id: machine.id,
    computerDnsName: machine.computerDnsName,
    firstSeen: machine.firstSeen,
    lastSeen: machine.firstSeen,
    osPlatform: machine.osPlatform,
    version: null,
    osProcessor: "x64",
    lastIpAddress: machine.lastIpAddress,
    lastExternalIpAddress: null,
    osBuild: null,
    healthStatus: machine.healthStatus,
    onboardingStatus: "Onboarded",
    rbacGroupId: machine.rbacGroupId,
    rbacGroupName: null,
    riskScore: "None",
    exposureLevel: "None",
    isAadJoined: false,
    aadDeviceId: null,
    machineTags: machine.machineTags,
  };
}

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

/** api/machineaction, Properties, and the api/run-live-response response example (commands with their status). */
function actionJson(action: MachineAction): Record<string, unknown> {
  return {
    id: action.id,
    type: "LiveResponse",
    requestor: action.requestor,
    requestorComment: action.requestorComment,
    ...(action.externalId === undefined ? {} : { externalId: action.externalId }),
    status: action.status,
    machineId: action.machineId,
    computerDnsName: action.computerDnsName,
    creationDateTimeUtc: iso(action.createdAt),
    lastUpdateDateTimeUtc: iso(action.lastUpdateAt),
    errorHResult: 0,
    relatedFileInfo: null,
    ...(action.cancellation
      ? {
          cancellationRequestor: action.cancellation.requestor,
          cancellationComment: action.cancellation.comment,
          cancellationDateTimeUtc: iso(action.cancellation.at),
        }
      : {}),
    commands: action.commands.map((entry, index) => ({
      index,
      startTime: iso(entry.startTime),
      endTime: iso(entry.endTime),
      commandStatus: entry.status,
      errors: entry.errors,
      command: entry.command,
    })),
  };
}
