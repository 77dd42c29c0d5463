/**
 * pino settings for the HTTP host: request logs without secrets. Headers that carry credentials are redacted,
 * query strings lose their values (a SAS token or a key can travel there), and configuration is only logged
 * through redactedConfig().
 */
import type { FastifyServerOptions } from "fastify";

const redactPaths: readonly string[] = [
  "req.headers.authorization",
  'req.headers["x-api-key"]',
  'req.headers["x-functions-key"]',
  "req.headers.cookie",
  "headers.authorization",
  'headers["x-api-key"]',
  "*.connectionString",
  "*.apiKeys",
  "*.accountKey",
];

/** `/samples?sha256=abc&sig=secret` → `/samples?sha256=…&sig=…`. */
function urlWithoutQueryValues(url: string): string {
  const q = url.indexOf("?");
  if (q < 0) return url;
  const names = url
    .slice(q + 1)
    .split("&")
    .filter(Boolean)
    .map((pair) => `${pair.split("=")[0]}=…`);
  return `${url.slice(0, q)}?${names.join("&")}`;
}

export function loggerOptions(level: string, stream?: NodeJS.WritableStream): FastifyServerOptions["logger"] {
  return {
    level,
    redact: { paths: [...redactPaths], censor: "[redacted]" },
    serializers: {
      req(request: { method: string; url: string; ip?: string; id?: string }) {
        return {
          method: request.method,
          url: urlWithoutQueryValues(request.url),
          remoteAddress: request.ip,
          reqId: request.id,
        };
      },
    },
    ...(stream ? { stream } : {}),
  } as FastifyServerOptions["logger"];
}
