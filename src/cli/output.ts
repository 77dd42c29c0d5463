/** How CLI commands write results: NDJSON with --json, human text otherwise. Errors go to stderr as one line. */
import { DiagnosticError, formatDiagnostic } from "../diagnostics/index.js";

export interface OutputOptions {
  json?: boolean;
}

export interface Output {
  readonly json: boolean;
  /** One record: a JSON line with --json, else the text the command renders for it. */
  record(value: unknown, text?: string): void;
  /**
   * Many records already as JSON texts, one per line, written in large chunks (not one write per line); resolves
   * when written, waiting for a full pipe to drain rather than queueing the whole output in memory.
   */
  jsonLines(texts: Iterable<string>): Promise<void>;
  /** Plain text for humans; dropped with --json. */
  text(line: string): void;
  /** Progress and notes for humans, on stderr; dropped with --json. */
  info(line: string): void;
}

/** Where output goes: a stream or anything with `write` (a stream's `false` and "drain" are honoured). */
export interface Sink {
  write(chunk: string): unknown;
  once?(event: "drain", listener: () => void): unknown;
}

export function createOutput(options: OutputOptions, out: Sink = process.stdout, err: Sink = process.stderr): Output {
  const json = options.json === true;
  return {
    json,
    record(value, text) {
      out.write(json ? `${JSON.stringify(value)}\n` : `${text ?? JSON.stringify(value, null, 2)}\n`);
    },
    async jsonLines(texts) {
      let chunk = "";
      for (const text of texts) {
        chunk += `${text}\n`;
        if (chunk.length >= 1 << 16) {
          if (out.write(chunk) === false && out.once)
            await new Promise<void>((resolve) => out.once?.("drain", resolve));
          chunk = "";
        }
      }
      if (chunk !== "") out.write(chunk);
    },
    text(line) {
      if (!json) out.write(`${line}\n`);
    },
    info(line) {
      if (!json) err.write(`${line}\n`);
    },
  };
}

/**
 * A sink that gathers what is written into few large writes: a stream of many small records (a scan's verdicts,
 * thousands a second) then costs a system call per 64 KiB or per LATENCY_MS, not one per line (nor one per turn of
 * the event loop: a scan reading on its own thread turns every 2 ms), and a line still goes out within LATENCY_MS
 * of being written. Call `flush()` before the command returns, and before this thread blocks for long.
 *
 * While lines are held back, a signal that ends the process (Ctrl-C, `kill`, `timeout`) writes them out first, then
 * ends the process by that same signal; with nothing held back no handler is installed, so such a signal ends the
 * process at once, even while this thread is busy (a handler would wait for it).
 */
export function coalescing(out: Sink): Sink & { flush(): void } {
  let pending = "";
  let timer: NodeJS.Timeout | undefined;
  let armed = false;
  const onSignal = (signal: NodeJS.Signals) => {
    flush();
    process.kill(process.pid, signal);
  };
  const arm = () => {
    if (armed) return;
    armed = true;
    for (const signal of ENDING_SIGNALS) process.on(signal, onSignal);
  };
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (armed) {
      armed = false;
      for (const signal of ENDING_SIGNALS) process.off(signal, onSignal);
    }
    if (pending === "") return;
    const chunk = pending;
    pending = "";
    out.write(chunk);
  };
  return {
    write(chunk) {
      pending += chunk;
      if (pending.length >= 1 << 16) flush();
      else {
        arm();
        timer ??= setTimeout(flush, LATENCY_MS);
      }
    },
    flush,
  };
}

/** The signals that end a run from outside (Ctrl-C, `kill`, `timeout`, a closed terminal). */
const ENDING_SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/** How long, at most, `coalescing` holds a line back. */
const LATENCY_MS = 25;

/** A sink over a stream whose reader may go away (`shmhunt scan --json | head -1`). */
export interface WatchedSink extends Sink {
  /** Why the stream can no longer be written (its reader closed it: EPIPE), once it cannot. */
  readonly failure: string | undefined;
  /** Stops watching (when the command is done with the stream). */
  release(): void;
}

/**
 * Takes a stream's write errors (EPIPE when the reader has gone) instead of letting the process end on an unhandled
 * 'error' event with a stack trace: `failure` then says why, and later writes are dropped, so a long command can
 * stop at once and say so in one line.
 */
export function watchedSink(stream: NodeJS.WritableStream): WatchedSink {
  let failure: string | undefined;
  const onError = (error: NodeJS.ErrnoException) => {
    failure ??=
      error.code === "EPIPE"
        ? "the output was closed before the scan ended (EPIPE)"
        : `cannot write the output (${error.code ?? error.message})`;
  };
  stream.on("error", onError);
  return {
    get failure() {
      return failure;
    },
    write(chunk) {
      return failure === undefined ? stream.write(chunk) : true;
    },
    release() {
      stream.off("error", onError);
    },
  };
}

/** A failure the CLI reports as one line on stderr, with an exit code (default 1). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = "CliError";
  }
}

/** The one-line reason printed on stderr for any error reaching the top of a command. */
export function reasonOf(error: unknown): string {
  if (error instanceof DiagnosticError) {
    const first = error.diagnostics[0];
    const more = error.diagnostics.length > 1 ? ` (+${error.diagnostics.length - 1} more)` : "";
    return first ? `${formatDiagnostic(first)}${more}` : error.message;
  }
  if (error instanceof Error) return error.message.split("\n")[0] ?? error.message;
  return String(error);
}
