/** IPv4/IPv6 range checks for ipv4_is_in_range / ipv6_is_in_range (null when an argument is not an address). */

export function parseIpv4(text: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text.trim());
  if (!m) return null;
  let out = 0;
  for (let i = 1; i <= 4; i++) {
    const n = Number(m[i]);
    if (n > 255) return null;
    out = out * 256 + n;
  }
  return out;
}

/** `ip` in `range` (an address or `a.b.c.d/bits`). */
export function ipv4InRange(ip: string, range: string): boolean | null {
  const addr = parseIpv4(ip);
  const [base = "", bitsText] = range.trim().split("/");
  const net = parseIpv4(base);
  if (addr === null || net === null) return null;
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  if (!Number.isInteger(bits) || bits < 0 || bits > 32) return null;
  const size = 2 ** (32 - bits);
  return Math.floor(addr / size) === Math.floor(net / size);
}

export function parseIpv6(text: string): bigint | null {
  let t = text.trim();
  if (t.startsWith("[") && t.endsWith("]")) t = t.slice(1, -1);
  const v4 = parseIpv4(t);
  if (v4 !== null) return (0xffffn << 32n) | BigInt(v4);
  const zone = t.indexOf("%");
  if (zone >= 0) t = t.slice(0, zone);
  let tail: number[] = [];
  const lastColon = t.lastIndexOf(":");
  const dotted = lastColon >= 0 ? parseIpv4(t.slice(lastColon + 1)) : null;
  if (dotted !== null) {
    tail = [Math.floor(dotted / 65536), dotted % 65536];
    t = `${t.slice(0, lastColon + 1)}`;
    if (t.endsWith("::")) t = `${t}`;
    else t = t.slice(0, -1);
  }
  const halves = t.split("::");
  if (halves.length > 2) return null;
  const parseGroups = (s: string): number[] | null => {
    if (s === "") return [];
    const groups = s.split(":");
    const out: number[] = [];
    for (const g of groups) {
      if (!/^[0-9a-f]{1,4}$/i.test(g)) return null;
      out.push(Number.parseInt(g, 16));
    }
    return out;
  };
  const head = parseGroups(halves[0] ?? "");
  const rest = halves.length === 2 ? parseGroups(halves[1] ?? "") : [];
  if (!head || !rest) return null;
  const known = head.length + rest.length + tail.length;
  if (halves.length === 1 && known !== 8) return null;
  if (known > 8) return null;
  const groups = [...head, ...new Array(8 - known).fill(0), ...rest, ...tail];
  let out = 0n;
  for (const g of groups) out = (out << 16n) | BigInt(g);
  return out;
}

/** `ip` in `prefix` (an address or `addr/bits`); IPv4 addresses are compared as IPv4-mapped IPv6. */
export function ipv6InRange(ip: string, prefix: string): boolean | null {
  const addr = parseIpv6(ip);
  const [base = "", bitsText] = prefix.trim().split("/");
  const net = parseIpv6(base);
  if (addr === null || net === null) return null;
  let bits = bitsText === undefined ? 128 : Number(bitsText);
  if (!Number.isInteger(bits) || bits < 0 || bits > 128) return null;
  if (parseIpv4(base) !== null && bitsText !== undefined && bits <= 32) bits += 96;
  const shift = BigInt(128 - bits);
  return addr >> shift === net >> shift;
}
