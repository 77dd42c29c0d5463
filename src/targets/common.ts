/** Value maps, notes and field specs shared by the target mappings (data only). */
import type { FieldSpec } from "./target-types.js";

/** ECS `event.action` values that mean "a process started" in Elastic's integrations (Defend, Endgame, auditd, CrowdStrike, Sysmon). */
export const PROCESS_START_ACTIONS = ["exec", "exec_event", "start", "executed", "process_started", "ProcessRollup2"];

/** Process-event actions no target here records as such: they match nothing (reported as an approximation). */
const UNRECORDED_PROCESS_ACTIONS = [
  "fork",
  "fork_event",
  "end",
  "already_running",
  "uid_change",
  "gid_change",
  "guid_change",
  "session_id_change",
];

const ARGS_NOTE =
  "argv is approximated from the command line: each whitespace-separated token is one argument (quoting is not interpreted; a wildcard matches within one token)";

const ARGS_COUNT_NOTE =
  "argument count approximated as the number of whitespace-separated tokens of the command line (none for an empty one)";

export function valueMap(
  entries: readonly (readonly [readonly string[], readonly string[]])[],
): Readonly<Record<string, readonly string[]>> {
  const out: Record<string, readonly string[]> = {};
  for (const [keys, values] of entries) for (const k of keys) out[k] = values;
  return out;
}

/**
 * The `values` of `event.action` on a target that records a process start as one value (`ProcessCreated`): every
 * start action is that value; the actions no target records match nothing.
 */
export function processActionValues(started: string): Readonly<Record<string, readonly string[]>> {
  return valueMap([
    [PROCESS_START_ACTIONS, [started]],
    [UNRECORDED_PROCESS_ACTIONS, []],
  ]);
}

/**
 * `array_length(split(...))` over the trimmed command line, with runs of spaces collapsed; null when the command line
 * is empty or blank, where Elastic's pipelines set no args_count (m365_defender's script_split_command_line) and
 * Kusto's `split("", " ")` would give one empty token.
 */
function argsCountExpr(column: string): string {
  const trimmed = `trim(@"\\s+", replace_regex(${column}, @"\\s+", " "))`;
  return `iff(isempty(${trimmed}), long(null), array_length(split(${trimmed}, " ")))`;
}

/** `<process>.args` and `<process>.args_count` approximated from a command-line column (one token, one argument). */
export function argsFromCommandLine(process: string, column: string): Readonly<Record<string, FieldSpec>> {
  return {
    [`${process}.args`]: { column, argsOf: "commandLine", approximation: ARGS_NOTE },
    [`${process}.args_count`]: { expr: argsCountExpr(column), type: "long", approximation: ARGS_COUNT_NOTE },
  };
}

/** The account name of a `domain\\name` user column (the whole value when it has no backslash). */
export function accountNameExpr(column: string): string {
  return `extract(@"[^\\\\]*$", 0, ${column})`;
}

/** The last path segment of a path column. */
export function baseNameExpr(column: string): string {
  return `extract(@"[^/\\\\]*$", 0, ${column})`;
}

/** The directory part of a path column (without the trailing separator). */
export function dirNameExpr(column: string): string {
  return `extract(@"^(.*)[/\\\\][^/\\\\]*$", 1, ${column})`;
}

/** The extension (without the dot) of a file-name column. */
export function extensionExpr(column: string): string {
  return `extract(@"\\.([^./\\\\]*)$", 1, ${column})`;
}
