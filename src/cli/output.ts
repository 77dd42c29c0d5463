/** How CLI commands write results: NDJSON with --json, human text otherwise. Errors go to stderr as one line. */
import type { Writable } from "node:stream";
import { DiagnosticError, fileSystemReason, formatDiagnostic, isFileSystemError } from "../diagnostics/index.js";

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
  /** `written`, if given, is called once this chunk and every one before it left the process (or failed to). */
  write(chunk: string, written?: (error?: Error | null) => void): unknown;
  once?(event: "drain", listener: () => void): unknown;
}

export function createOutput(options: OutputOptions, out: Sink = stdoutSink(), err: Sink = process.stderr): Output {
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
 * of being written. Call `close()` (it flushes) before the command returns. The caller's thread must come back to
 * its event loop often (a scan does every few milliseconds, also through a large file): a signal is handled there.
 *
 * A signal that ends the process (Ctrl-C, `kill`, `timeout`) writes out what every open sink holds back and what
 * its stream still queues (for up to WRITE_OUT_MS), then ends the process by that same signal (see
 * `endingSignalsWriteOut`).
 */
export function coalescing(out: Sink): Sink & { flush(): void; close(): void } {
  let pending = "";
  let timer: NodeJS.Timeout | undefined;
  /** A signal is ending the process: nothing more is written. */
  let ending = false;
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (pending === "" || ending) return;
    const chunk = pending;
    pending = "";
    out.write(chunk);
  };
  const open: OpenSink = {
    writeOut(done) {
      ending = true;
      if (timer) clearTimeout(timer);
      const chunk = pending;
      pending = "";
      // With an empty chunk too: `done` then comes once what the stream still queues is written.
      out.write(chunk, () => done());
    },
  };
  endingSignalsWriteOut(open);
  return {
    write(chunk) {
      if (ending) return true;
      pending += chunk;
      if (pending.length >= 1 << 16) flush();
      else timer ??= setTimeout(flush, LATENCY_MS);
      return true;
    },
    flush,
    close() {
      flush();
      openSinks.delete(open);
    },
  };
}

/** A sink with output to write out before a signal ends the process; `done` once it is written (or failed). */
interface OpenSink {
  writeOut(done: () => void): void;
}

const openSinks = new Set<OpenSink>();
let listening = false;

/**
 * Registers `sink` with the process's handler of the ENDING_SIGNALS, installed on the first call: on such a signal
 * every open sink writes out, then the handler ends the process by that signal (at once on a second one, and
 * after WRITE_OUT_MS at most: a reader that does not read gets what it can in that time).
 *
 * The handler stays installed for the rest of the process, also when no sink is open (it then ends the process at
 * once): Node drops a signal caught but not yet handled when the last listener is removed, and the handler was
 * once removed on each timed write: a Ctrl-C caught just before one was lost, and the scan went on to its end.
 */
function endingSignalsWriteOut(sink: OpenSink): void {
  openSinks.add(sink);
  if (listening) return;
  listening = true;
  let ending: NodeJS.Signals | undefined;
  let ended = false;
  const end = (signal: NodeJS.Signals) => {
    if (ended) return;
    ended = true;
    for (const each of ENDING_SIGNALS) process.off(each, onSignal);
    process.kill(process.pid, signal);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (ending) return end(ending);
    ending = signal;
    let waiting = openSinks.size + 1;
    const oneDone = () => {
      if (--waiting === 0) end(signal);
    };
    setTimeout(() => end(signal), WRITE_OUT_MS);
    for (const each of openSinks) each.writeOut(oneDone);
    oneDone();
  };
  for (const signal of ENDING_SIGNALS) process.on(signal, onSignal);
}

/** The signals that end a run from outside (Ctrl-C, `kill`, `timeout`, a closed terminal). */
const ENDING_SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/** How long, at most, `coalescing` holds a line back. */
const LATENCY_MS = 25;

/** How long, at most, a process ending on a signal waits for its output to leave. */
const WRITE_OUT_MS = 500;

/** A sink over a stream whose reader may go away (`shmhunt scan --json | head -1`). */
export interface WatchedSink extends Sink {
  /** Why the stream can no longer be written (its reader closed it: EPIPE), once it cannot. */
  readonly failure: string | undefined;
  /** "drain", or at once when the stream can no longer be written (a writer waiting for it then goes on). */
  once(event: "drain", listener: () => void): unknown;
  /**
   * Resolves once what was written has left (or failed to): a write's error comes on a later turn of the event loop
   * (a synchronous pipe's EPIPE too), so `failure` is known only then.
   */
  settled(): Promise<void>;
  /** Stops watching (when the command is done with the stream). */
  release(): void;
}

/**
 * Takes a stream's write errors (EPIPE when the reader has gone) instead of letting the process end on an unhandled
 * 'error' event with a stack trace: `failure` then says why (`task` names what was cut short), and later writes are
 * dropped, so a long command can stop at once and say so in one line. A writer waiting for "drain" is let go when
 * the stream fails: a failed stream never drains.
 */
export function watchedSink(stream: NodeJS.WritableStream, task = "the command"): WatchedSink {
  let failure: string | undefined;
  const waiting = new Set<() => void>();
  const onError = (error: NodeJS.ErrnoException) => {
    failure ??=
      error.code === "EPIPE"
        ? `the output was closed before ${task} ended (EPIPE)`
        : `cannot write the output (${error.code ?? error.message})`;
    for (const release of [...waiting]) release();
  };
  stream.on("error", onError);
  return {
    get failure() {
      return failure;
    },
    write(chunk, written) {
      if (failure === undefined) return written ? stream.write(chunk, written) : stream.write(chunk);
      written?.(new Error(failure));
      return true;
    },
    once(_event, listener) {
      if (failure !== undefined) return listener();
      const release = () => {
        waiting.delete(release);
        stream.off("drain", release);
        listener();
      };
      waiting.add(release);
      stream.once("drain", release);
    },
    async settled() {
      await new Promise((resolve) => setImmediate(resolve));
      const queued = (stream as Partial<Pick<Writable, "writableLength">>).writableLength ?? 0;
      if (failure === undefined && queued > 0) await new Promise<void>((resolve) => this.once("drain", resolve));
    },
    release() {
      stream.off("error", onError);
    },
  };
}

let stdoutWatch: WatchedSink | undefined;

/**
 * The process's stdout as every command writes it (`createOutput`'s default): watched, so a reader that goes away
 * (`shmhunt translate … --json | head -1`) ends the command with one line and exit 1 (`main`), not a stack trace.
 */
export function stdoutSink(): WatchedSink {
  stdoutWatch ??= watchedSink(process.stdout);
  return stdoutWatch;
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
  // A file system error no reader turned into a diagnostic: the path it names and why, not the system call.
  if (isFileSystemError(error) && error.path !== undefined) return `${error.path}: ${fileSystemReason(error)}`;
  if (error instanceof Error) return error.message.split("\n")[0] ?? error.message;
  return String(error);
}

/** A service's logger as the CLI shows it: warnings and errors, one line each on stderr; info dropped. */
export interface CliLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/**
 * The logger a command hands the services: a warning (a rule not hunted, a window clamped, damaged state set aside)
 * or an error is one line on `err`, `shmhunt: warning: <message> (key=value, …)`, whatever --json says (stdout
 * carries the records). Errors of a hunt are also in its report, so `errors: false` leaves them to it.
 */
export function cliLogger(err: Sink = process.stderr, options: { readonly errors?: boolean } = {}): CliLogger {
  const line = (level: string, fields: object, message: string) => {
    const named = Object.entries(fields)
      .filter(([, value]) => value !== undefined && !message.includes(String(value)))
      .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`)
      .join(", ");
    const text = `${message}${named ? ` (${named})` : ""}`.replace(/\s*\n\s*/g, " ");
    err.write(`shmhunt: ${level}: ${text.length > 2000 ? `${text.slice(0, 2000)}…` : text}\n`);
  };
  return {
    info() {},
    warn: (fields, message) => line("warning", fields, message),
    error: (fields, message) => {
      if (options.errors !== false) line("error", fields, message);
    },
  };
}
