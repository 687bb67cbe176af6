// The HTTP Range header of a media fetch (webwxgetmedia and kin), per RFC 9110
// section 14: one byte range is served as 206 with Content-Range; a range
// that cannot be satisfied is 416 with `Content-Range: bytes */<size>`.
//
// What this server does not do, and why (all allowed by RFC 9110 14.2, which
// lets a server ignore Range):
// - More than one range is answered whole (200): multipart/byteranges is
//   extra machinery no web client needs, and many small or overlapping ranges
//   are a known amplification attack (RFC 9110 17.15).
// - An invalid header (bad syntax, a last-pos before its first-pos, a unit
//   other than bytes) is ignored: answered whole (200).
// - An empty file has no byte to point at: a suffix range of it is answered
//   whole (200, empty) and any other range is 416.
// If-Range is the route's business (it needs the validator); this parses only.

export type RangeAnswer =
  /** Ignore the header: send the whole file with 200. */
  | { status: 200 }
  /** Send bytes start..end (inclusive) with 206 and this Content-Range. */
  | { status: 206; start: number; end: number; length: number; contentRange: string }
  /** Send nothing with 416 and this Content-Range. */
  | { status: 416; contentRange: string };

type Spec = { kind: 'from'; first: number; last?: number } | { kind: 'suffix'; length: number };

const DIGITS = /^[0-9]+$/;
/** A token, then `=`: the range unit (RFC 9110 14.1; compared case-insensitively). */
const UNIT = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)=/;

export function parseRange(header: string | undefined, size: number): RangeAnswer {
  if (header === undefined) return { status: 200 };
  const specs = parseSpecs(header);
  if (!specs || specs.length !== 1) return { status: 200 };
  const spec = specs[0]!;
  const unsatisfiable: RangeAnswer = { status: 416, contentRange: `bytes */${size}` };
  if (spec.kind === 'suffix') {
    if (spec.length === 0) return unsatisfiable;
    if (size === 0) return { status: 200 };
    return partial(Math.max(0, size - spec.length), size - 1, size);
  }
  if (spec.first >= size) return unsatisfiable;
  const last = spec.last === undefined ? size - 1 : Math.min(spec.last, size - 1);
  return partial(spec.first, last, size);
}

function partial(start: number, end: number, size: number): RangeAnswer {
  return { status: 206, start, end, length: end - start + 1, contentRange: `bytes ${start}-${end}/${size}` };
}

/** The range-specs of a bytes Range header, or undefined if it is not one or is invalid. */
function parseSpecs(header: string): Spec[] | undefined {
  const unit = UNIT.exec(header);
  if (!unit || unit[1]!.toLowerCase() !== 'bytes') return undefined;
  const specs: Spec[] = [];
  // A list (RFC 9110 5.6.1): optional whitespace around commas, empty elements ignored.
  for (const element of header.slice(unit[0].length).split(',')) {
    const s = element.replace(/^[ \t]+|[ \t]+$/g, '');
    if (s === '') continue;
    const spec = parseSpec(s);
    if (!spec) return undefined;
    specs.push(spec);
  }
  return specs.length > 0 ? specs : undefined;
}

function parseSpec(s: string): Spec | undefined {
  const dash = s.indexOf('-');
  if (dash < 0) return undefined;
  const a = s.slice(0, dash);
  const b = s.slice(dash + 1);
  if (a === '') return DIGITS.test(b) ? { kind: 'suffix', length: Number(b) } : undefined;
  if (!DIGITS.test(a)) return undefined;
  const first = Number(a);
  if (b === '') return { kind: 'from', first };
  if (!DIGITS.test(b)) return undefined;
  const last = Number(b);
  // RFC 9110 14.1.1: a last-pos below its first-pos makes the range-spec invalid.
  return last < first ? undefined : { kind: 'from', first, last };
}
