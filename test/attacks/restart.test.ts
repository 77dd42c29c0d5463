/**
 * Bad luck with temporary files (issue 12, "Smaller": "temporary files stay behind after a kill or a full disk:
 * clean them at start"). Real `shmhunt serve` processes share one SHMHUNT_TMP_DIR; one is SIGKILLed in the middle of
 * a trickled upload (its spool folder stays, as after any kill), and a restart removes that folder and nothing else:
 * not a foreign file, not a folder that only looks like a spool's, not the spool of a server that still runs (in the
 * same pid namespace, or in another one, as two containers sharing the folder). A full disk (the spool's writes
 * refused: a tmpfs of 512 KiB, ENOSPC, or a file size limit, RLIMIT_FSIZE, EFBIG) answers 507 and leaves nothing
 * behind. The broker's, the Blob store's and YARA's temporary folders are named and swept the same way: a killed
 * process's are removed at start, a live one's stay.
 */

import { spawn } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { SPOOL_PREFIX, spoolSample } from "../../src/store/spool.js";
import { renewLeases, TEMP_KINDS, TEMP_LEASE_MS, tempPrefix } from "../../src/store/temp-folder.js";
import { collect } from "../support/cli-process.js";
import { connect, entries, type RawClient, until } from "./serve.js";
import { canUnshare, PID_NAMESPACE, type ServeProcess, serveProcess } from "./serve-process.js";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const base = mkdtempSync(path.join(tmpdir(), "shmhunt-restart-"));
const rulesDir = path.join(base, "rules");
mkdirSync(rulesDir);
copyFileSync(path.join(repoRoot, "rules", "shm-creation.yar"), path.join(rulesDir, "shm-creation.yar"));
afterAll(() => rmSync(base, { recursive: true, force: true }));

const running: ServeProcess[] = [];
const clients: RawClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.socket.destroy();
  await Promise.all(running.splice(0).map((server) => server.kill()));
});

let servers = 0;
/** A server over the shared temporary folder `tmp`, with a data folder of its own. */
async function start(tmp: string, wrap: readonly string[] = []): Promise<ServeProcess> {
  const data = path.join(base, `data-${servers++}`);
  const server = await serveProcess(
    {
      SHMHUNT_DATA_DIR: data,
      SHMHUNT_RULES_DIR: rulesDir,
      SHMHUNT_KQL_DIR: path.join(data, "kql"),
      SHMHUNT_TMP_DIR: tmp,
      // An upload left half sent while another server is killed and started (seconds each on a loaded machine) is
      // idle all that time: not cut by the idle timeout (30 s by default) before the test sends the rest.
      SHMHUNT_IDLE_TIMEOUT: "5m",
    },
    wrap,
  );
  running.push(server);
  return server;
}

const SAMPLE_BYTES = 1_000_000;
const FIRST_PART = 64 * 1024;

/** Starts an upload of SAMPLE_BYTES to `server`, sends its first part only, and waits for its spool folder. */
async function trickle(server: ServeProcess, tmp: string): Promise<{ client: RawClient; spool: string }> {
  const before = new Set(entries(tmp));
  const client = await connect(server.port);
  clients.push(client);
  client.socket.write(
    `POST /samples HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nContent-Length: ${SAMPLE_BYTES}\r\nConnection: close\r\n\r\n`,
  );
  client.socket.write(Buffer.alloc(FIRST_PART, 5));
  let spool: string | undefined;
  await until(() => {
    spool = entries(tmp).find((name) => !before.has(name));
    return spool !== undefined && entries(path.join(tmp, spool)).length === 1;
  }, "the upload's spool folder");
  return { client, spool: spool as string };
}

/** Sends the rest of a trickled upload; the server's answer once it closes the connection. */
async function finish(client: RawClient): Promise<string> {
  client.socket.write(Buffer.alloc(SAMPLE_BYTES - FIRST_PART, 5));
  await until(client.closed, "the answer to the upload", 30_000);
  return client.received();
}

/** Files outside the temporary folder that a link in it points to: a restart must not remove them. */
const afterTestKeeps: string[] = [];

/**
 * Things in the temporary folder that are not this service's spool folders, which a restart must leave alone: a
 * file, a folder not named as a spool is, a file and a link named as a dead process's spool folder (a link is never
 * followed: the folder it points to keeps its file).
 */
function foreign(tmp: string): string[] {
  const names = ["notes.txt", `${SPOOL_PREFIX}not-a-pid`, `${SPOOL_PREFIX}999999.1.2.3-file00`];
  writeFileSync(path.join(tmp, names[0] as string), "someone else's");
  mkdirSync(path.join(tmp, names[1] as string));
  writeFileSync(path.join(tmp, names[2] as string), "a file");
  const target = mkdtempSync(path.join(base, "elsewhere-"));
  writeFileSync(path.join(target, "keep"), "not ours");
  const link = `${SPOOL_PREFIX}999999.1.2.3-link00`;
  symlinkSync(target, path.join(tmp, link));
  afterTestKeeps.push(path.join(target, "keep"));
  return [...names, link];
}

describe("a server killed mid-upload leaves its spool folder; the next start removes it", () => {
  it("and leaves the spool of a server still running, and every name that is not a spool folder", async () => {
    const tmp = mkdtempSync(path.join(base, "tmp-"));
    const [killed, alive] = await Promise.all([start(tmp), start(tmp)]);
    const cut = await trickle(killed as ServeProcess, tmp);
    const live = await trickle(alive as ServeProcess, tmp);
    await (killed as ServeProcess).kill();
    // SIGKILL runs no handler: the folder and its partial file stay.
    expect(entries(tmp)).toContain(cut.spool);
    expect(entries(path.join(tmp, cut.spool))).toHaveLength(1);
    const others = foreign(tmp);

    await start(tmp);
    expect(entries(tmp).sort()).toEqual([live.spool, ...others].sort());
    for (const file of afterTestKeeps) expect(existsSync(file), file).toBe(true);
    // The running server's upload was not disturbed: it completes, and its folder goes.
    expect(await finish(live.client)).toMatch(/^HTTP\/1\.1 201 /);
    await until(() => !entries(tmp).includes(live.spool), "the live upload's folder to go");
  });
});

/**
 * A process holding one temporary folder of every kind (the broker's download, the blob store's copy, YARA's spool,
 * the upload spool), each with a partial file in it, made the way the service makes them (temp-folder.ts). It holds
 * them until it is killed, as the service does mid-download or mid-scan.
 */
async function holder(tmp: string): Promise<{ folders: string[]; kill(): Promise<void> }> {
  const script = `import { writeFileSync } from "node:fs"; import path from "node:path";
import { makeTempFolder, TEMP_KINDS } from "./src/store/temp-folder.ts";
const folders = [];
for (const kind of TEMP_KINDS) {
  const folder = await makeTempFolder(kind, process.env.HOLD_DIR);
  writeFileSync(path.join(folder.path, "part"), "a partial file");
  folders.push(path.basename(folder.path));
}
console.log(JSON.stringify(folders));
setInterval(() => {}, 60_000);`;
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: repoRoot,
    env: { ...process.env, HOLD_DIR: tmp },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const io = collect(child);
  await until(() => io.out().includes("]"), `the holder's folders (stderr: ${io.err().slice(0, 300)})`, 30_000);
  const folders = JSON.parse(io.out()) as string[];
  return {
    folders,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await io.exit;
    },
  };
}

describe("every kind of temporary folder (broker, blob, YARA spool, upload spool) left by a killed process", () => {
  it("is removed at the next start; a live process's folders and foreign names of each kind stay", async () => {
    const tmp = mkdtempSync(path.join(base, "tmp-"));
    const [dead, live] = await Promise.all([holder(tmp), holder(tmp)]);
    try {
      expect(dead.folders.map((name) => name.slice(0, name.indexOf("-", "shmhunt-".length) + 1))).toEqual(
        TEMP_KINDS.map(tempPrefix),
      );
      await dead.kill();
      // SIGKILL runs no handler: every folder and its partial file stay.
      for (const name of dead.folders) expect(entries(path.join(tmp, name)), name).toEqual(["part"]);
      // Foreign names of each kind: a file and a link named as a dead process's folder, a folder with no owner.
      const target = mkdtempSync(path.join(base, "elsewhere-"));
      writeFileSync(path.join(target, "keep"), "not ours");
      const others = TEMP_KINDS.flatMap((kind) => {
        const names = [
          `${tempPrefix(kind)}999999.1.2.3-file00`,
          `${tempPrefix(kind)}999999.1.2.3-link00`,
          `${tempPrefix(kind)}mine`,
        ];
        writeFileSync(path.join(tmp, names[0] as string), "a file");
        symlinkSync(target, path.join(tmp, names[1] as string));
        mkdirSync(path.join(tmp, names[2] as string));
        return names;
      });

      await start(tmp);
      expect(entries(tmp).sort()).toEqual([...live.folders, ...others].sort());
      for (const name of live.folders) expect(entries(path.join(tmp, name)), name).toEqual(["part"]);
      expect(existsSync(path.join(target, "keep"))).toBe(true);
    } finally {
      await Promise.all([dead.kill(), live.kill()]);
    }
  });
});

describe.skipIf(!canUnshare())("servers in pid namespaces of their own, as containers (unshare)", () => {
  /** The owner's pid in a spool folder's name (`<prefix><pid>…`), as its namespace sees it. */
  const ownerPid = (name: string) => /^\D+(\d+)/.exec(name)?.[1];

  it("a restarted container (pid 1 again) removes its dead spool once the lease has lapsed", async () => {
    const tmp = mkdtempSync(path.join(base, "tmp-"));
    const killed = await start(tmp, ["unshare", ...PID_NAMESPACE]);
    const cut = await trickle(killed, tmp);
    await killed.kill();
    expect(ownerPid(cut.spool)).toBe("1");
    expect(entries(tmp)).toEqual([cut.spool]);
    // The container restarts later than the lease: its old spool's lease (the folder's time) has lapsed.
    const lapsed = new Date(Date.now() - 2 * TEMP_LEASE_MS);
    utimesSync(path.join(tmp, cut.spool), lapsed, lapsed);
    const restarted = await start(tmp, ["unshare", ...PID_NAMESPACE]);
    expect(entries(tmp)).toEqual([]);
    const again = await trickle(restarted, tmp);
    expect(ownerPid(again.spool)).toBe("1");
  });

  it("another container's live spool stays (its pid is not in the restarted server's namespace)", async () => {
    const tmp = mkdtempSync(path.join(base, "tmp-"));
    // The live server is pid 52 of its namespace (a shell is its pid 1 and runs 50 short processes first), a pid
    // that the starting server's namespace (itself and its scan workers) lacks.
    const fifty = 'i=0; while [ "$i" -lt 50 ]; do /bin/true; i=$((i + 1)); done; "$@"; exit $?';
    const alive = await start(tmp, ["unshare", ...PID_NAMESPACE, "sh", "-c", fifty, "sh"]);
    const live = await trickle(alive, tmp);
    expect(ownerPid(live.spool)).toBe("52");
    await start(tmp, ["unshare", ...PID_NAMESPACE]);
    expect(entries(tmp)).toEqual([live.spool]);
    expect(await finish(live.client)).toMatch(/^HTTP\/1\.1 201 /);
    await until(() => entries(tmp).length === 0, "the live upload's folder to go");
  });
});

describe("a spool held longer than a lease", () => {
  it("has its lease renewed (the folder's time) while it is held, and none once released", async () => {
    const tmp = mkdtempSync(path.join(base, "tmp-"));
    const source = new PassThrough();
    const spooling = spoolSample(source, { maxBytes: 1024, tmpDir: tmp });
    source.write("part of a sample");
    await until(
      () => entries(tmp).length === 1 && entries(path.join(tmp, entries(tmp)[0] as string)).length === 1,
      "the spool folder and its file",
    );
    const folder = path.join(tmp, entries(tmp)[0] as string);
    const old = new Date(Date.now() - 2 * TEMP_LEASE_MS);
    utimesSync(folder, old, old);
    await renewLeases();
    expect(Date.now() - statSync(folder).mtimeMs).toBeLessThan(TEMP_LEASE_MS / 2);
    source.end();
    const spooled = await spooling;
    await spooled.cleanup();
    expect(entries(tmp)).toEqual([]);
  });
});

describe("a full disk (the spool's writes refused by the system)", () => {
  const LIMIT = 512 * 1024;
  const full = canUnshare();
  /** How the writes are refused: a file size limit (EFBIG), or a 512 KiB tmpfs of the server's own (ENOSPC). */
  const ways = [
    { how: "file size limit", wrap: ["prlimit", `--fsize=${LIMIT}`] },
    ...(full
      ? [
          {
            how: "full tmpfs",
            wrap: [
              "unshare",
              "--user",
              "--map-root-user",
              "--mount",
              "sh",
              "-c",
              `mount -t tmpfs -o size=${LIMIT} tmpfs "$SHMHUNT_TMP_DIR" && exec "$@"`,
              "sh",
            ],
          },
        ]
      : []),
  ];
  const cases = ways.flatMap((way) => ["/samples", "/scan"].map((route) => ({ ...way, route })));

  it.each(cases)(
    "$route, $how: 507 SAMPLE_NO_SPACE, the partial file removed, and the server goes on",
    async ({ route, wrap }) => {
      const tmp = mkdtempSync(path.join(base, "tmp-"));
      const server = await start(tmp, wrap);
      // The folder as the server sees it (a tmpfs mounted in its own mount namespace is seen through its root).
      const seen = `/proc/${server.child.pid}/root${tmp}`;
      const response = await fetch(`${server.url}${route}`, {
        method: "POST",
        headers: { "content-type": "application/octet-stream" },
        body: Buffer.alloc(2 * LIMIT, 9),
      });
      expect(response.status).toBe(507);
      expect(await response.json()).toMatchObject({ code: "SAMPLE_NO_SPACE", error: "Insufficient Storage" });
      expect(entries(seen)).toEqual([]);
      // Not a crash: the same process answers, and a sample that fits is taken.
      expect((await fetch(`${server.url}/health`)).status).toBe(200);
      const small = await fetch(`${server.url}${route}`, {
        method: "POST",
        headers: { "content-type": "application/octet-stream" },
        body: Buffer.from(`a small sample ${route}`),
      });
      expect(small.status).toBe(route === "/samples" ? 201 : 200);
      expect(entries(seen)).toEqual([]);
    },
  );
});
