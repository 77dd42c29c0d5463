/**
 * Microsoft's ASIM parsers (`../shared/reference/asim-parsers`) as the local workspace's functions: the source
 * parsers with their own bodies, the unifying `_Im_ProcessEvent` / `_Im_FileEvent` over them (src/kusto/asim-parsers,
 * with the parameters src/targets/asim.ts declares from Microsoft's unifying parser files),
 * and the ASIM helper functions those bodies invoke, written here from Microsoft's description of them.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { type AsimParser, readAsimParser, unifyingParser } from "../../src/kusto/asim-parsers.js";
import type { FunctionSchema } from "../../src/kusto/index.js";
import { sourceFunctions } from "../../src/targets/index.js";

export const ASIM_PARSERS = path.resolve(import.meta.dirname, "../../../shared/reference/asim-parsers/Parsers");

function parser(file: string): AsimParser {
  const full = path.join(ASIM_PARSERS, file);
  return readAsimParser(readFileSync(full, "utf8"), full);
}

/**
 * `_ASIM_ResolveDvcFQDN(T, field)`: ASIM's helper that reads a device name column into DvcHostname, DvcDomain,
 * DvcDomainType and DvcFQDN. Written from the ASIM schema documentation of those fields
 * (https://learn.microsoft.com/azure/sentinel/normalization-common-fields, "Device fields": DvcHostname "the
 * hostname of the device, excluding domain information", DvcDomain "the domain of the device", DvcFQDN "the
 * hostname of the device including domain information when available", DvcDomainType "FQDN" when the domain is
 * given as an FQDN).
 */
const resolveDvcFqdn: FunctionSchema = {
  name: "_ASIM_ResolveDvcFQDN",
  parameters: "(T:(*), field:string)",
  body: `T
| extend ShmhuntFqdn = tostring(column_ifexists(field, ""))
| extend ShmhuntDot = indexof(ShmhuntFqdn, ".")
| extend DvcHostname = iff(ShmhuntDot < 0, ShmhuntFqdn, substring(ShmhuntFqdn, 0, ShmhuntDot)),
    DvcDomain = iff(ShmhuntDot < 0, "", substring(ShmhuntFqdn, ShmhuntDot + 1)),
    DvcDomainType = iff(ShmhuntDot < 0, "", "FQDN"),
    DvcFQDN = iff(ShmhuntDot < 0, "", ShmhuntFqdn)
| project-away ShmhuntFqdn, ShmhuntDot`,
};

/**
 * \`_ASIM_GetWindowsUserType(username, sid)\`: the ASIM user type of a Windows account (documentation
 * normalization-common-fields, "ActorUserType": Regular, Machine, Admin, System, …). Only the parsers' Windows
 * branches call it; the paired suite reads no column it gives.
 */
const windowsUserType: FunctionSchema = {
  name: "_ASIM_GetWindowsUserType",
  parameters: "(username:string, sid:string)",
  body: `case(sid == "S-1-5-18", "System", username endswith "$", "Machine", isempty(username), "", "Regular")`,
};

export interface AsimFunctions {
  readonly functions: readonly FunctionSchema[];
  /** The source parsers run, by ASIM schema. */
  readonly sources: Readonly<Record<string, readonly string[]>>;
}

export function asimFunctions(): AsimFunctions {
  // the unifying parsers' parameters and columns, as the asim target calls them
  const signatures = new Map(sourceFunctions().map((f) => [f.name, f]));
  const process = [
    parser("ASimProcessEvent/Parsers/vimProcessEventMicrosoft365D.yaml"),
    parser("ASimProcessEvent/Parsers/vimProcessCreateLinuxSysmon.yaml"),
  ];
  // imFileEvent.yaml's union calls vimFileEventLinuxSysmonFileCreated (Sysmon for Linux event 11, from Syslog) and
  // vimFileEventMicrosoft365D; the archived Sysmon file parser declares no parameters, so it is called with none.
  const file = [
    parser("ASimFileEvent/Parsers/vimFileEventLinuxSysmonFileCreated.yaml"),
    parser("ASimFileEvent/Parsers/vimFileEventM365D.yaml"),
  ];
  const unify = (name: string, sources: readonly AsimParser[]) => {
    const schema = signatures.get(name);
    if (!schema?.columns) throw new Error(`no ASIM schema for ${name}`);
    return unifyingParser(name, schema.parameters ?? "()", schema.columns, sources);
  };
  return {
    functions: [
      resolveDvcFqdn,
      windowsUserType,
      ...process,
      ...file,
      unify("_Im_ProcessEvent", process),
      unify("_Im_FileEvent", file),
    ],
    sources: { ProcessEvent: process.map((p) => p.name), FileEvent: file.map((p) => p.name) },
  };
}
