/**
 * Golden files of the emitter: test/kql/golden/<name>.eql → <name>.<target>.kql (the query, or `// refused: ...`).
 * Regenerate on purpose with `UPDATE_GOLDEN=1 npx vitest run test/kql/golden.test.ts` and review the diff.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseEql } from "../../src/eql/index.js";
import { translateQuery } from "../../src/kql/index.js";
import { TARGETS } from "../../src/targets/index.js";

const dir = path.resolve(import.meta.dirname, "golden");
const update = process.env.UPDATE_GOLDEN === "1";

describe("golden KQL", () => {
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".eql"))) {
    const name = file.replace(/\.eql$/, "");
    const query = parseEql(readFileSync(path.join(dir, file), "utf8"));
    for (const target of TARGETS) {
      it(`${name} → ${target}`, () => {
        const t = translateQuery(query, target);
        expect(t.diagnostics).toEqual([]);
        const text = t.refused
          ? `// refused: ${t.refused.message}\n`
          : `${t.approximations.map((a) => `// approximation: ${a}\n`).join("")}${t.kql}\n`;
        const golden = path.join(dir, `${name}.${target}.kql`);
        if (update) writeFileSync(golden, text);
        expect(text).toBe(readFileSync(golden, "utf8"));
      });
    }
  }
});
