// Registers a resolve hook that appends every resolved module URL to the file named by SHMHUNT_MODULE_LOG.
import { register } from "node:module";

register("./record-modules-hooks.mjs", import.meta.url, { data: { out: process.env.SHMHUNT_MODULE_LOG } });
