import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { text } from "node:stream/consumers";
import { BlobServiceClient } from "@azure/storage-blob";
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
    const info = await store.info(spooled.sha256);
    if (!info) throw new Error("not stored");
    const seen = await store.withFile(info, async (file) => ({ file, listed: readdirSync(tmp) }));
    expect(seen?.listed).toHaveLength(1);
    expect(seen?.listed[0]).toMatch(/^shmhunt-blob-\d+\.\w+\.\w+\.\w+-/);
    expect(seen?.file).toBe(path.join(tmp, seen?.listed[0] as string, spooled.sha256));
    expect(readdirSync(tmp)).toEqual([]);
  });
});

describe("Azure Blob sample store (Azurite): the version read", () => {
  it("reads only the version info() described, and no byte past its size", async () => {
    // "Specifying conditional headers for Blob service operations": If-Match, "Specify this header to perform the
    // operation only if the resource's ETag matches the value specified"; "Specifying the range header for Blob
    // service operations": "bytes=startByte-endByte".
    const container = `samples${Math.random().toString(36).slice(2, 10)}`;
    const store = await createSampleStore({
      kind: "blob",
      container,
      access: { connectionString: azurite.connectionString },
    });
    const data = "the sample whose size was checked";
    const spooled = await spoolSample(Readable.from([Buffer.from(data)]), { maxBytes: 1000 });
    await store.putFile(spooled.sha256, spooled.path);
    await spooled.cleanup();
    const info = await store.info(spooled.sha256);
    if (!info) throw new Error("not stored");
    expect(info.version).toBeTruthy();
    // Replaced under the same name by a larger blob after info() was read.
    const blob = BlobServiceClient.fromConnectionString(azurite.connectionString)
      .getContainerClient(container)
      .getBlockBlobClient(spooled.sha256);
    await blob.uploadData(Buffer.alloc(4096, 0x45));
    let used = false;
    expect(
      await store.withFile(info, async () => {
        used = true;
      }),
    ).toBeUndefined();
    expect(used).toBe(false);
    // Described without a version: still no byte past the size described.
    const read = await store.withFile({ sha256: info.sha256, size: info.size }, async (file) => readFileSync(file));
    expect(read).toEqual(Buffer.alloc(data.length, 0x45));
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
    const info = await store.info(spooled.sha256);
    expect(info).toMatchObject({ sha256: sha(data), size: data.length });
    expect(await text((await store.open(spooled.sha256))!)).toBe(data);
    expect(await store.withFile(info!, async (file) => readFileSync(file, "utf8"))).toBe(data);
  });

  it("answers undefined for a sample it does not hold", async () => {
    const store = await make();
    const missing = sha("missing");
    expect(await store.info(missing)).toBeUndefined();
    expect(await store.open(missing)).toBeUndefined();
    expect(await store.withFile({ sha256: missing, size: 1 }, async () => "used")).toBeUndefined();
  });

  it("refuses a name that is not a sha256", async () => {
    const store = await make();
    await expect(store.has("../../etc/passwd")).rejects.toBeInstanceOf(SampleError);
  });

  it("sets aside bytes found not to hash to their name: not stored from then on, and the real sample takes their place", async () => {
    const store = await make();
    const real = await spoolSample(Readable.from([Buffer.from("the real sample")]), { maxBytes: 1000 });
    // Of the real sample's size (15 bytes): a version is known by more than its size (a cut or padded copy may have it).
    const other = await spoolSample(Readable.from([Buffer.from("same-size bytes")]), { maxBytes: 1000 });
    // Other bytes under the real sample's name (as a user may write them to the Blob container).
    expect(await store.putFile(real.sha256, other.path)).toBe(true);
    const info = await store.info(real.sha256);
    if (!info) throw new Error("not stored");
    expect(await store.setAside(info, other.sha256)).toBe(true);
    expect(await store.has(real.sha256)).toBe(false);
    expect(await store.withFile(info, async () => "used")).toBeUndefined();
    expect(await store.putFile(real.sha256, real.path)).toBe(true);
    const stored = await store.info(real.sha256);
    expect(stored).toMatchObject({ sha256: real.sha256, size: "the real sample".length });
    expect(await store.withFile(stored!, async (file) => readFileSync(file, "utf8"))).toBe("the real sample");
    // The description of a version that is no longer stored sets nothing aside.
    expect(await store.setAside(info, other.sha256)).toBe(false);
    expect(await store.has(real.sha256)).toBe(true);
    await real.cleanup();
    await other.cleanup();
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
