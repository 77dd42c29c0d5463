/**
 * `shmhunt <args>` from source with its stderr (and stdin, and stdout unless piped) on a real pseudo-terminal, made
 * by python3's `pty` module: what a person at a terminal sees, as bytes, for tests of the progress display. The
 * stdout may be a pipe instead (`shmhunt scan … | less`); Ctrl-C can be sent to the process group once the
 * terminal shows a given text.
 */
import { spawn } from "node:child_process";
import path from "node:path";

const repoRoot = path.resolve(import.meta.dirname, "../..");

/** The python side: opens the pty at the given size, runs the command, relays bytes, answers one JSON object. */
const HARNESS = `
import base64, fcntl, json, os, pty, select, signal, struct, subprocess, sys, termios, time
cfg = json.loads(sys.argv[1])
master, slave = pty.openpty()
fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", cfg["rows"], cfg["cols"], 0, 0))
piped = cfg["stdout"] == "pipe"
p = subprocess.Popen(cfg["argv"], cwd=cfg["cwd"], env=cfg["env"], stdin=slave,
                     stdout=subprocess.PIPE if piped else slave, stderr=slave, start_new_session=True)
os.close(slave)
tty, out = b"", b""
fds = {master: "tty"}
if piped: fds[p.stdout.fileno()] = "out"
sent = False
deadline = time.time() + cfg["timeout"]
while fds and time.time() < deadline:
    if cfg.get("interruptOn") and not sent and cfg["interruptOn"].encode() in tty:
        time.sleep(cfg.get("interruptDelay", 0))
        os.killpg(p.pid, signal.SIGINT)
        sent = True
    ready, _, _ = select.select(list(fds), [], [], 0.05)
    for fd in ready:
        try:
            data = os.read(fd, 65536)
        except OSError:
            data = b""
        if not data:
            del fds[fd]
        elif fds[fd] == "tty":
            tty += data
        else:
            out += data
if time.time() >= deadline:
    p.kill()
code = p.wait()
print(json.dumps({"code": code, "interrupted": sent, "tty": base64.b64encode(tty).decode(), "stdout": base64.b64encode(out).decode()}))
`;

export interface PtyRunOptions {
  readonly cols?: number;
  readonly rows?: number;
  /** `pipe`: stdout is a pipe, read apart from the terminal; default: the terminal too. */
  readonly stdout?: "tty" | "pipe";
  /** Send SIGINT to the process group (as Ctrl-C does) once the terminal shows this text. */
  readonly interruptOn?: string;
  /** Seconds to wait after seeing `interruptOn` before sending SIGINT. */
  readonly interruptDelay?: number;
  readonly env?: Readonly<Record<string, string>>;
  readonly timeoutSeconds?: number;
}

export interface PtyRun {
  /** The exit code; negative: killed by that signal (-2: SIGINT). */
  readonly code: number;
  readonly interrupted: boolean;
  /** Every byte the terminal received (stderr, and stdout unless piped), with the pty's \n → \r\n. */
  readonly tty: string;
  /** The piped stdout ("" when stdout was the terminal). */
  readonly stdout: string;
}

/** Runs `shmhunt <args>` from the sources (tsx) under a pty. */
export function runOnTerminal(args: readonly string[], options: PtyRunOptions = {}): Promise<PtyRun> {
  const script = `import { main } from "./src/cli/main.ts"; process.exitCode = await main(["node", "shmhunt", ...${JSON.stringify(args)}]);`;
  return runScriptOnTerminal(script, options);
}

/**
 * Runs an ES module's text (node + tsx, from the repository root) under a pty: for a command that needs something
 * set up in its own process first (`deploy` with the emulator's SDK clients).
 */
export function runScriptOnTerminal(script: string, options: PtyRunOptions = {}): Promise<PtyRun> {
  const config = {
    argv: [process.execPath, "--import", "tsx", "--input-type=module", "-e", script],
    cwd: repoRoot,
    env: { ...process.env, TERM: "xterm-256color", SHMHUNT_HUNT_TICK: "0", ...options.env },
    rows: options.rows ?? 24,
    cols: options.cols ?? 80,
    stdout: options.stdout ?? "tty",
    interruptOn: options.interruptOn,
    interruptDelay: options.interruptDelay ?? 0,
    timeout: options.timeoutSeconds ?? 50,
  };
  return new Promise((resolve, reject) => {
    const child = spawn("python3", ["-c", HARNESS, JSON.stringify(config)], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      err += c.toString();
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`pty harness exited ${code}: ${err}`));
      const r = JSON.parse(out) as { code: number; interrupted: boolean; tty: string; stdout: string };
      resolve({
        code: r.code,
        interrupted: r.interrupted,
        tty: Buffer.from(r.tty, "base64").toString("utf8"),
        stdout: Buffer.from(r.stdout, "base64").toString("utf8"),
      });
    });
  });
}
