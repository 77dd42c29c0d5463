/**
 * The one progress display of the CLI (`scan`, `translate` over folders, `deploy --apply`, a catch-up `hunt`): a
 * cli-progress bar on stderr with done / total, rate and time left. It exists only when stderr is a terminal and
 * the output is not --json; otherwise `startProgress` returns undefined and the command stays quiet.
 */
import { createRequire } from "node:module";

/** cli-progress, loaded when a bar first shows (a command run without a terminal never needs it). */
type CliProgress = typeof import("cli-progress");
let cliProgress: CliProgress | undefined;
const loadCliProgress = (): CliProgress => {
  cliProgress ??= createRequire(import.meta.url)("cli-progress") as CliProgress;
  return cliProgress;
};

export interface ProgressOptions {
  /** What is being done, e.g. `scanning`. */
  readonly label: string;
  /** What is counted, e.g. `files`. */
  readonly unit: string;
  /** The total when known now (else set it later with `setTotal`). */
  readonly total?: number;
  /** Extra fields shown after the count, e.g. `{mb} MB, {matched} matched` (cli-progress placeholders). */
  readonly detail?: string;
  /** Initial values of the detail's placeholders. */
  readonly payload?: Readonly<Record<string, unknown>>;
}

export interface Progress {
  /** `n` more done (default 1), with new values of the detail's placeholders. */
  tick(n?: number, payload?: Readonly<Record<string, unknown>>): void;
  setTotal(total: number): void;
  /** A line for humans on the bar's stream: written over the bar's line, the bar drawn again below it. */
  log(line: string): void;
  /** Clears the bar (call once, in a `finally`). */
  stop(): void;
}

/** Whether a progress bar would show: stderr is a terminal and the output is for humans. */
export function showsProgress(json: boolean | undefined, stream: NodeJS.WriteStream = process.stderr): boolean {
  return json !== true && stream.isTTY === true;
}

export function startProgress(
  json: boolean | undefined,
  options: ProgressOptions,
  stream: NodeJS.WriteStream = process.stderr,
): Progress | undefined {
  if (!showsProgress(json, stream)) return undefined;
  const detail = options.detail ? ` | ${options.detail}` : "";
  const { Presets, SingleBar } = loadCliProgress();
  const settings = {
    stream,
    // The bar draws through lineTerminal: one line redrawn in place, no terminal mode changed (see there).
    terminal: lineTerminal(stream),
    format: `${options.label} |{bar}| {value}/{total} ${options.unit}${detail} | {rate} ${options.unit}/s | ETA {eta_formatted}`,
    clearOnComplete: true,
    // Drawn again each frame: a line written between two draws (a verdict, a failure) clears the bar's line.
    forceRedraw: true,
    etaBuffer: 200,
  };
  const bar = new SingleBar(settings, Presets.shades_classic);
  const started = Date.now();
  let done = 0;
  bar.start(options.total ?? 0, 0, { ...options.payload, rate: "0" });
  return {
    tick(n = 1, payload = {}) {
      done += n;
      const rate = (done / Math.max(0.001, (Date.now() - started) / 1000)).toFixed(0);
      bar.increment(n, { ...payload, rate });
    },
    setTotal: (total) => bar.setTotal(total),
    log: (line) => {
      stream.write(`\r\x1b[K${line}\n`);
    },
    stop: () => bar.stop(),
  };
}

/**
 * What cli-progress draws with, in place of its own terminal: the bar is one line, redrawn from its first column,
 * cut one column short of the terminal's width (a full line would leave the cursor waiting to wrap). cli-progress's
 * own terminal hides the cursor, turns autowrap off and saves the cursor position, restoring all three in `stop()`:
 * a Ctrl-C or kill then left the terminal without a cursor and without line wrapping; lines written to the same
 * terminal while the bar showed (scan's verdicts) were cut at its right edge; and the restore, in screen
 * coordinates, jumped back up over lines written meanwhile, erasing one and leaving the last bar on screen. This one
 * changes no terminal mode, so nothing needs restoring.
 */
function lineTerminal(stream: NodeJS.WriteStream) {
  const width = () => Math.max(1, (stream.columns || 80) - 1);
  return {
    isTTY: () => true,
    getWidth: width,
    cursorSave: () => {},
    cursorRestore: () => {},
    cursor: (_enabled: boolean) => {},
    lineWrapping: (_enabled: boolean) => {},
    cursorRelative: () => {},
    cursorRelativeReset: () => {},
    clearBottom: () => {},
    cursorTo: (x: number) => stream.write(x > 0 ? `\x1b[${x + 1}G` : "\r"),
    clearRight: () => stream.write("\x1b[K"),
    clearLine: () => stream.write("\x1b[2K"),
    newline: () => stream.write("\n"),
    write: (text: string) => stream.write(Array.from(text).slice(0, width()).join("")),
  };
}

/** A sink for a terminal that also shows the bar: each write first clears the bar's line (the bar redraws below). */
export function clearingLine(stream: NodeJS.WriteStream): { write(chunk: string): unknown } {
  return { write: (chunk: string) => stream.write(`\r\x1b[K${chunk}`) };
}

/**
 * Where a command's lines on `stream` go while its bar may show (stderr a terminal, no --json): on a terminal, over
 * the bar's line (`clearingLine`: the bar redraws below them); elsewhere (a pipe, a file, --json) `plain`, by default
 * the stream as is (stdout's callers pass `stdoutSink()`, which survives a reader that goes away).
 */
export function besideProgress(
  json: boolean | undefined,
  stream: NodeJS.WriteStream,
  plain: { write(chunk: string): unknown } = stream,
): { write(chunk: string): unknown } {
  return showsProgress(json) && stream.isTTY === true ? clearingLine(stream) : plain;
}
