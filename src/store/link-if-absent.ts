import { link, unlink } from "node:fs/promises";

/**
 * Publishes a fully written temp file at `target` only if nothing is there yet: `link()` fails with EEXIST
 * atomically, so of concurrent writers exactly one wins. The temp file is removed either way.
 * Resolves to true when this call created `target`.
 */
export async function linkIfAbsent(temp: string, target: string): Promise<boolean> {
  try {
    await link(temp, target);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}
