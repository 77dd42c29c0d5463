/**
 * The emulator's TLS certificate: self-signed for 127.0.0.1 / localhost / ::1, made in-process at start with the
 * `selfsigned` package (Node's WebCrypto underneath). The certificate is its own CA: clients trust it by passing it
 * as `ca` (Node's TLS option), never by turning verification off. It is also written to a file so a person (or a
 * child process) can use it, e.g. with `NODE_EXTRA_CA_CERTS`.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import selfsigned from "selfsigned";

export interface EmulatorCertificate {
  /** PEM of the certificate; trust it as a CA. */
  readonly cert: string;
  /** PEM of the private key. */
  readonly key: string;
  /** A file holding `cert`. */
  readonly caPath: string;
}

export async function makeCertificate(dir?: string): Promise<EmulatorCertificate> {
  const notBeforeDate = new Date(Date.now() - 60_000);
  const notAfterDate = new Date(notBeforeDate.getTime() + 7 * 24 * 3600_000);
  const pems = await selfsigned.generate([{ name: "commonName", value: "shmhunt-emulator" }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: "basicConstraints", cA: true, critical: true },
      { name: "keyUsage", digitalSignature: true, keyCertSign: true, critical: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          { type: 2, value: "localhost" },
          { type: 7, ip: "127.0.0.1" },
          { type: 7, ip: "::1" },
        ],
      },
    ],
  });
  const folder = dir ?? mkdtempSync(path.join(tmpdir(), "shmhunt-emulator-"));
  const caPath = path.join(folder, "emulator-ca.pem");
  writeFileSync(caPath, pems.cert);
  return { cert: pems.cert, key: pems.private, caPath };
}
