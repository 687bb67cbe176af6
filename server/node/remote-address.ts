// The key the anti-abuse tables count a peer under: its address as the
// transport saw it, with an IPv4-mapped IPv6 address as plain IPv4, and an
// IPv6 address cut to its /64 (one subscriber commonly holds a whole /64, so
// counting single addresses there would count nothing). Anything else (the
// simulator's device names) is kept as it is, cut to a bounded length.

/** Longer keys are cut: the tables' memory stays bounded per entry. */
const MAX_KEY_CHARS = 64;
const IPV6_GROUPS = 8;
/** Groups of a /64 prefix. */
const PREFIX_GROUPS = 4;
const MAPPED_V4 = '::ffff:';

export function addressKey(remote: string): string {
  const lower = remote.toLowerCase();
  if (lower.startsWith(MAPPED_V4) && lower.includes('.')) return lower.slice(MAPPED_V4.length, MAPPED_V4.length + MAX_KEY_CHARS);
  if (!/^[0-9a-f:.%]+$/.test(lower) || !lower.includes(':')) return remote.slice(0, MAX_KEY_CHARS);
  return `${prefix64(lower.split('%')[0]!)}::/64`;
}

/** The first four groups of an IPv6 address, '::' expanded. */
function prefix64(a: string): string {
  const groups = (s: string): string[] => (s === '' ? [] : s.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g])));
  const gap = a.indexOf('::');
  let all: string[];
  if (gap < 0) all = groups(a);
  else {
    const head = groups(a.slice(0, gap));
    const tail = groups(a.slice(gap + 2));
    all = [...head, ...Array<string>(Math.max(0, IPV6_GROUPS - head.length - tail.length)).fill('0'), ...tail];
  }
  return all
    .slice(0, PREFIX_GROUPS)
    .map((g) => (parseInt(g, 16) || 0).toString(16))
    .join(':');
}
