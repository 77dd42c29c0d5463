/**
 * The environment of shmhunt's local child processes (src/processes/child-environment.ts). What it must drop is
 * shaped by Node's CLI documentation of NODE_EXTRA_CA_CERTS ("only read when the Node.js process is first launched";
 * "a message will be emitted (once) with process.emitWarning() if the file is missing"), and seen in a child: one
 * that inherits the variable warns on stderr as it starts, one that does not get it says nothing.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { localChildEnvironment } from "../../src/processes/child-environment.js";

describe("a local child's environment", () => {
  it("leaves out NODE_EXTRA_CA_CERTS, which Node would read at the child's start", () => {
    const parent = { PATH: "/usr/bin", NODE_EXTRA_CA_CERTS: "/etc/ssl/certs/ca-certificates.crt" };
    const env = localChildEnvironment({}, parent);
    expect(env).not.toHaveProperty("NODE_EXTRA_CA_CERTS");
    expect(env.PATH).toBe("/usr/bin");
    // The parent's own environment is not changed.
    expect(parent.NODE_EXTRA_CA_CERTS).toBe("/etc/ssl/certs/ca-certificates.crt");
  });

  it("so a child's start does not read that file (Node warns when it cannot)", (context) => {
    const missing = "/nonexistent/shmhunt-extra-ca.pem";
    const inherited = spawnSync(process.execPath, ["-e", "0"], {
      env: { ...process.env, NODE_EXTRA_CA_CERTS: missing },
      encoding: "utf8",
    });
    // The peer: the same child with the variable inherited reads the file as it starts, and says it could not. A
    // Node that reads it only when TLS is first used says nothing here, and this test has nothing to tell apart.
    if (!inherited.stderr.includes(missing)) context.skip();
    const local = spawnSync(process.execPath, ["-e", "0"], {
      env: localChildEnvironment({}, { ...process.env, NODE_EXTRA_CA_CERTS: missing }),
      encoding: "utf8",
    });
    expect(local.status).toBe(0);
    expect(local.stderr).toBe("");
  });

  it("asks glibc for huge pages, keeping the caller's own tunables", () => {
    expect(localChildEnvironment({}, {}).GLIBC_TUNABLES).toBe("glibc.malloc.hugetlb=1");
    expect(localChildEnvironment({}, { GLIBC_TUNABLES: "glibc.malloc.arena_max=2" }).GLIBC_TUNABLES).toBe(
      "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1",
    );
    // A caller who chose a hugetlb setting keeps it.
    expect(localChildEnvironment({}, { GLIBC_TUNABLES: "glibc.malloc.hugetlb=0" }).GLIBC_TUNABLES).toBe(
      "glibc.malloc.hugetlb=0",
    );
  });

  it("applies the caller's settings last", () => {
    expect(localChildEnvironment({ RUST_BACKTRACE: "0" }, { RUST_BACKTRACE: "1" }).RUST_BACKTRACE).toBe("0");
  });
});
