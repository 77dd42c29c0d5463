/**
 * A small model of a VT100/xterm screen, enough to tell what a person sees after a command wrote to the terminal:
 * printable text with autowrap (DECAWM, `ESC[?7h/l`), CR, LF with scrolling (rows scrolled off the top are kept),
 * cursor save/restore (`ESC 7` / `ESC 8`, screen coordinates, as terminals do), cursor moves (`ESC[nG`, `A`–`D`,
 * `H`), erase in line (`ESC[nK`), erase in display (`ESC[nJ`), cursor visibility (`ESC[?25h/l`). Every code point
 * takes one column. Anything else is ignored.
 */
export interface Screen {
  /** The rows on screen now, trailing blanks removed. */
  readonly rows: readonly string[];
  /** Every line written (scrolled-off rows, then the screen), rows joined where autowrap continued them. */
  readonly lines: readonly string[];
  readonly cursorVisible: boolean;
  readonly autowrap: boolean;
  readonly cursor: { readonly row: number; readonly col: number };
}

export function renderScreen(bytes: string, rows: number, cols: number): Screen {
  const blank = () => Array.from({ length: cols }, () => " ");
  const screen: string[][] = Array.from({ length: rows }, blank);
  const wrapped: boolean[] = Array.from({ length: rows }, () => false);
  const history: { text: string; wrapped: boolean }[] = [];
  let row = 0;
  let col = 0;
  let pending = false;
  let autowrap = true;
  let cursorVisible = true;
  let saved = { row: 0, col: 0 };
  const lineFeed = () => {
    if (row === rows - 1) {
      history.push({ text: (screen.shift() ?? []).join(""), wrapped: wrapped.shift() ?? false });
      screen.push(blank());
      wrapped.push(false);
    } else row++;
  };
  const chars = Array.from(bytes);
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] ?? "";
    if (ch === "\r") {
      col = 0;
      pending = false;
    } else if (ch === "\n") {
      lineFeed();
      pending = false;
    } else if (ch === "\b") {
      col = Math.max(0, col - 1);
      pending = false;
    } else if (ch === "\x1b") {
      const next = chars[i + 1];
      if (next === "7") {
        saved = { row, col };
        i++;
      } else if (next === "8") {
        ({ row, col } = saved);
        pending = false;
        i++;
      } else if (next === "[") {
        let j = i + 2;
        let params = "";
        while (j < chars.length && !/[@-~]/.test(chars[j] ?? "")) params += chars[j++];
        const final = chars[j];
        i = j;
        const nums = params
          .replace(/^\?/, "")
          .split(";")
          .map((n) => Number.parseInt(n, 10));
        const n = Number.isNaN(nums[0] ?? Number.NaN) ? undefined : nums[0];
        if (params.startsWith("?")) {
          const on = final === "h";
          if (n === 25) cursorVisible = on;
          if (n === 7) autowrap = on;
          continue;
        }
        const line = screen[row] ?? [];
        switch (final) {
          case "K":
            if ((n ?? 0) === 0) line.fill(" ", col);
            else if (n === 1) line.fill(" ", 0, col + 1);
            else line.fill(" ");
            break;
          case "J":
            if ((n ?? 0) === 0) for (let r = row + 1; r < rows; r++) screen[r]?.fill(" ");
            if ((n ?? 0) === 0) line.fill(" ", col);
            if (n === 2) for (const r of screen) r.fill(" ");
            break;
          case "G":
            col = Math.min(cols - 1, Math.max(0, (n ?? 1) - 1));
            break;
          case "A":
            row = Math.max(0, row - (n ?? 1));
            break;
          case "B":
            row = Math.min(rows - 1, row + (n ?? 1));
            break;
          case "C":
            col = Math.min(cols - 1, col + (n ?? 1));
            break;
          case "D":
            col = Math.max(0, col - (n ?? 1));
            break;
          case "H":
            row = Math.min(rows - 1, Math.max(0, (n ?? 1) - 1));
            col = Math.min(cols - 1, Math.max(0, (nums[1] ?? 1) - 1));
            break;
        }
        pending = false;
      } else i++;
    } else if (ch >= " ") {
      if (pending && autowrap) {
        lineFeed();
        wrapped[row] = true;
        col = 0;
        pending = false;
      }
      (screen[row] ?? [])[col] = ch;
      if (col === cols - 1) pending = autowrap;
      else col++;
    }
  }
  const all = [...history, ...screen.map((r, k) => ({ text: r.join(""), wrapped: wrapped[k] ?? false }))];
  const lines: string[] = [];
  for (const r of all) {
    if (r.wrapped && lines.length > 0) lines[lines.length - 1] += r.text;
    else lines.push(r.text);
  }
  return {
    rows: screen.map((r) => r.join("").trimEnd()),
    lines: lines.map((l) => l.trimEnd()),
    cursorVisible,
    autowrap,
    cursor: { row, col },
  };
}
