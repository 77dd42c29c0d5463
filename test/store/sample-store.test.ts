import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { text } from "node:stream/consumers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createSampleStore,
  LocalSampleStore,
  SampleError,
  type SampleStore,
  spoolSample,
} from "../../src/store/index.js";
import { type Azurite, startAzurite } from "../support/azurite.js";
import { tempDirs } from "../support/temp-dirs.js";

let azurite: Azurite;
const tempDir = tempDirs("samples");
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.stop();
});
const sha = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");

/** A stream of `count` chunks of `size` bytes, produced lazily (never held whole), counting what was pulled. */
function chunks(count: number, size: number): { stream: Readable; pulled: () => number } {
  let produced = 0;
  const chunk = Buffer.alloc(size, 0x41);
  const stream = new Readable({
    read() {
      if (produced >= count) this.push(null);
      else {
        produced++;
        this.push(chunk);
      }
    },
  });
  return { stream, pulled: () => produced };
}

describe("spoolSample", () => {
  it("hashes while streaming and checks a claimed sha256 (any case)", async () => {
    const data = Buffer.from("\x7fELF sample bytes");
    const spooled = await spoolSample(Readable.from([data]), {
      maxBytes: 1024,
      claimedSha256: sha(data).toUpperCase(),
    });
    expect(spooled.sha256).toBe(sha(data));
    expect(spooled.size).toBe(data.length);
    expect(readFileSync(spooled.path)).toEqual(data);
    await spooled.cleanup();
    expect(existsSync(spooled.path)).toBe(false);
  });

  it("refuses content whose hash is not the claimed one, leaving nothing behind", async () => {
    const tmp = tempDir();
    const error = await spoolSample(Readable.from([Buffer.from("abc")]), {
      maxBytes: 1024,
      claimedSha256: sha("abd"),
      tmpDir: tmp,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SampleError);
    expect((error as SampleError).code).toBe("SAMPLE_HASH_MISMATCH");
    expect(readdirSync(tmp)).toEqual([]);
  });

  it("refuses a malformed claimed hash before reading", async () => {
    await expect(
      spoolSample(Readable.from([Buffer.from("a")]), { maxBytes: 10, claimedSha256: "xyz" }),
    ).rejects.toMatchObject({
      code: "SAMPLE_BAD_HASH",
    });
  });

  it("stops storing as soon as the size limit is passed, leaving the source to its owner", async () => {
    const tmp = tempDir();
    const source = chunks(1000, 64 * 1024); // would be 64 MB
    const error = await spoolSample(source.stream, { maxBytes: 1024 * 1024, tmpDir: tmp }).catch((e: unknown) => e);
    expect((error as SampleError).code).toBe("SAMPLE_TOO_LARGE");
    expect(readdirSync(tmp)).toEqual([]);
    // Not failed with the error: an HTTP server can still answer 413 on the same connection.
    expect(source.stream.errored).toBeNull();
  });

  it("accepts a sample of exactly the limit and an empty sample", async () => {
    const exact = await spoolSample(chunks(16, 1024).stream, { maxBytes: 16 * 1024 });
    expect(exact.size).toBe(16 * 1024);
    await exact.cleanup();
    const empty = await spoolSample(Readable.from([]), { maxBytes: 10 });
    expect(empty).toMatchObject({ size: 0, sha256: sha("") });
    await empty.cleanup();
  });
});

const backends: ReadonlyArray<[string, () => Promise<SampleStore>]> = [
  ["local folder", async () => new LocalSampleStore(tempDir())],
  [
    "Azure Blob (Azurite)",
    async () =>
      createSampleStore({
        kind: "blob",
        container: `samples${Math.random().toString(36).slice(2, 10)}`,
        access: { connectionString: azurite.connectionString },
      }),
  ],
];

describe("Azure Blob sample store (Azurite): a local copy", () => {
  it("is made in an owner-named folder of the given temporary folder (swept at start after a kill), removed after use", async () => {
    const tmp = tempDir();
    const store = await createSampleStore(
      {
        kind: "blob",
        container: `samples${Math.random().toString(36).slice(2, 10)}`,
        access: { connectionString: azurite.connectionString },
      },
      tmp,
    );
    const spooled = await spoolSample(Readable.from([Buffer.from("a blob copy")]), { maxBytes: 1000 });
    await store.putFile(spooled.sha256, spooled.path);
    await spooled.cleanup();
    const seen = await store.withFile(spooled.sha256, async (file) => ({ file, listed: readdirSync(tmp) }));
    expect(seen?.listed).toHaveLength(1);
    expect(seen?.listed[0]).toMatch(/^shmhunt-blob-\d+\.\w+\.\w+\.\w+-/);
    expect(seen?.file).toBe(path.join(tmp, seen?.listed[0] as string, spooled.sha256));
    expect(readdirSync(tmp)).toEqual([]);
  });
});

describe.each(backends)("sample store: %s", (_name, make) => {
  it("stores a sample once by sha256 and reads it back", async () => {
    const store = await make();
    const data = "sample content";
    const spooled = await spoolSample(Readable.from([Buffer.from(data)]), { maxBytes: 1000 });
    expect(await store.has(spooled.sha256)).toBe(false);
    expect(await store.putFile(spooled.sha256, spooled.path)).toBe(true);
    expect(await store.putFile(spooled.sha256, spooled.path)).toBe(false);
    await spooled.cleanup();
    expect(await store.info(spooled.sha256)).toEqual({ sha256: sha(data), size: data.length });
    expect(await text((await store.open(spooled.sha256))!)).toBe(data);
    expect(await store.withFile(spooled.sha256, async (file) => readFileSync(file, "utf8"))).toBe(data);
  });

  it("answers undefined for a sample it does not hold", async () => {
    const store = await make();
    const missing = sha("missing");
    expect(await store.info(missing)).toBeUndefined();
    expect(await store.open(missing)).toBeUndefined();
    expect(await store.withFile(missing, async () => "used")).toBeUndefined();
  });

  it("refuses a name that is not a sha256", async () => {
    const store = await make();
    await expect(store.has("../../etc/passwd")).rejects.toBeInstanceOf(SampleError);
  });

  it("keeps a verdict summary with the sample", async () => {
    const store = (await make()) as SampleStore & {
      annotation(s: string): Promise<Record<string, string> | undefined>;
    };
    const spooled = await spoolSample(Readable.from([Buffer.from("x")]), { maxBytes: 10 });
    await store.putFile(spooled.sha256, spooled.path);
    await spooled.cleanup();
    await store.annotate(spooled.sha256, { verdict: "match", rules: "shm_creation" });
    expect(await store.annotation(spooled.sha256)).toMatchObject({ verdict: "match", rules: "shm_creation" });
  });
});
