import type { Command } from "commander";
import { registerDeploy } from "./deploy.js";
import { registerEql } from "./eql.js";
import { registerHits } from "./hits.js";
import { registerHunt } from "./hunt.js";
import { registerKql } from "./kql.js";
import { registerScan } from "./scan.js";
import { registerServe } from "./serve.js";
import { registerTranslate } from "./translate.js";
import { registerValidate } from "./validate.js";

/** Every CLI command; each module registers one. */
export const commands: ReadonlyArray<(program: Command) => void> = [
  registerValidate,
  registerTranslate,
  registerEql,
  registerKql,
  registerScan,
  registerDeploy,
  registerHunt,
  registerHits,
  registerServe,
];
