#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm run build` (run by `npm ci` through `prepare`); launch.ts runs
// the commands that use Kusto.Language from its startup snapshot when one is built.
import { launch } from "../dist/src/cli/launch.js";

process.exitCode = await launch(process.argv);
