/**
 * YARA-X reports columns in characters (Unicode scalar values: `é` counts 1), and compile.ts spanAt() adds
 * that column to a UTF-16 offset (until 8 December 2026; it counts characters now). A character outside the BMP (an
 * emoji or 𝔘 in a string or a comment) is two UTF-16 units, so every diagnostic after it on the same line pointed
 * one unit early per such character.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateYaraFiles } from "../../src/yara/index.js";
import { tempDir } from "./tmp.js";

describe("diagnostic columns after a non-BMP character", () => {
  let dir: string;
  let remove: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, remove } = await tempDir("astral"));
  });
  afterAll(() => remove());

  it("puts the span of `nope` on `nope` when the line holds 🙂🙂 before it", async () => {
    const file = path.join(dir, "emoji.yar");
    const text = 'rule a {\n  strings: $a = "🙂🙂"\n  condition: $a and nope\n}\n';
    const oneLine = 'rule b { strings: $a = "🙂🙂" condition: $a and nope }\n';
    await writeFile(file, text);
    const one = path.join(dir, "emoji-line.yar");
    await writeFile(one, oneLine);

    // Control: the error on a line without the emoji is placed right.
    const [control] = validateYaraFiles([file]).filter((d) => d.severity === "error");
    expect(text.slice(control?.span?.start.offset, control?.span?.end.offset)).toBe("nope");

    const [error] = validateYaraFiles([one]).filter((d) => d.severity === "error");
    expect(error?.message).toMatch(/E009 unknown identifier `nope`/);
    expect(oneLine.slice(error?.span?.start.offset, error?.span?.end.offset)).toBe("nope");
    expect(error?.span?.start.column).toBe(oneLine.indexOf("nope") + 1);
  });
});
