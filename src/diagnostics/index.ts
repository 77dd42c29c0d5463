export * from "./codes.js";
export * from "./diagnostic.js";
export * from "./file-errors.js";
export * from "./json-syntax.js";
export * from "./span.js";
export * from "./utf8.js";
