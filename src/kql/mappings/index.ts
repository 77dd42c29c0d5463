/** Every target's mapping, by target name. */
import type { TargetMapping } from "../mapping-types.js";
import { asim } from "./asim.js";
import { auditd } from "./auditd.js";
import { defender } from "./defender.js";

export const MAPPINGS: Readonly<Record<"defender" | "asim" | "auditd", TargetMapping>> = { defender, asim, auditd };
