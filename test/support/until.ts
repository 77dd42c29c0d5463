/**
 * Resolves once `check` holds, polling; throws naming `what` after `ms`. The default is a safety net for an event
 * that comes (a child process's line, a server's answer), wide enough for a loaded machine; a wait that is itself
 * the check of a time bound passes its own `ms`.
 */
export async function until(check: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
