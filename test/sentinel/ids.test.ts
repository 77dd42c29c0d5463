import { v5 } from "uuid";
import { describe, expect, it } from "vitest";
import { contentIds, uuidv5 } from "../../src/sentinel/ids.js";

describe("uuidv5", () => {
  // RFC 9562 Appendix A.4: namespace DNS, name "www.example.com", SHA-1 2ed6657de927468b55e12665a8aea6a22dee3e35.
  it("matches the RFC 9562 test vector (DNS namespace, www.example.com)", () => {
    expect(uuidv5("www.example.com", "6ba7b810-9dad-11d1-80b4-00c04fd430c8")).toBe(
      "2ed6657d-e927-568b-95e1-2665a8aea6a2",
    );
  });

  // The `uuid` package (an implementation the project did not write) as a second oracle, over names in other scripts.
  it("agrees with the uuid package on non-ASCII names and other namespaces", () => {
    for (const [name, namespace] of [
      ["incident/é/日本/🙂", "5b0d3c8e-6a0f-4f64-9d4c-2f3c8a1e7b21"],
      ["", "6ba7b811-9dad-11d1-80b4-00c04fd430c8"],
      ["bookmark/0123456789abcdef", "6BA7B810-9DAD-11D1-80B4-00C04FD430C8"],
    ] as const) {
      expect(uuidv5(name, namespace)).toBe(v5(name, namespace));
    }
  });

  // The namespace's bytes are kept in a scratch buffer between calls: switching namespaces, and a name long enough to
  // need a larger buffer, must each hash the namespace asked for.
  it("agrees with the uuid package when namespaces alternate and names grow", () => {
    const namespaces = ["6ba7b810-9dad-11d1-80b4-00c04fd430c8", "5b0d3c8e-6a0f-4f64-9d4c-2f3c8a1e7b21"];
    for (let i = 0; i < 40; i++) {
      const namespace = namespaces[Math.floor(i / 3) % 2]!;
      const name = `n${i}/`.repeat(i * i);
      expect(uuidv5(name, namespace)).toBe(v5(name, namespace));
      expect(uuidv5(name)).toBe(v5(name, namespaces[1]!));
    }
  });

  it("gives stable, distinct ids per content kind", () => {
    const a = contentIds.incident("hit-1");
    expect(contentIds.incident("hit-1")).toBe(a);
    expect(contentIds.bookmark("hit-1")).not.toBe(a);
    expect(contentIds.alertRule("r", "defender")).not.toBe(contentIds.alertRule("r", "asim"));
    expect(contentIds.huntingQuery("3f3f9fe2-d095-11ec-95dc-f661ea17fbce", "defender").length).toBeLessThanOrEqual(64);
  });
});
