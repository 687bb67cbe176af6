// Keeps a trickled body from costing the server a stream push per piece.
// node:http parses what one socket read brought in one go, in C++, and hands
// every body piece to JavaScript, which pushes it into the request stream (a
// Buffer, a queue entry, a scheduled tick each): a 64 KiB read of one-byte
// chunks is about 11,000 pushes, all made before any 'data' listener sees the
// first one, and pausing the parser only takes effect after the read is
// parsed. Profiled under the abuse profile's chunked-body attack, those
// pushes were most of the server's CPU. The guard lets through the pieces
// BodyBuffer needs to see that the body is fragmented, and drops the rest on
// the spot; the transport then refuses the request as before.
//
// This wraps an internal of node:http (the parser's body callback, found by
// its function name): if it is not there, nothing is wrapped and the
// transport's own check still refuses the body, only at a higher cost.
import type { IncomingMessage } from 'node:http';
import { tooFragmented } from './body-buffer.ts';

type BodyCallback = (this: ParserLike, ...args: unknown[]) => unknown;

interface ParserLike {
  incoming?: unknown;
  [key: string]: unknown;
}

/** The parser's slot that holds node:http's body callback, looked up once per parser. */
const slots = new WeakMap<object, string>();

function bodySlot(parser: ParserLike): string | undefined {
  const known = slots.get(parser);
  if (known !== undefined) return known;
  for (const key of Object.keys(parser)) {
    const f = parser[key];
    if (typeof f === 'function' && f.name === 'parserOnBody') {
      slots.set(parser, key);
      return key;
    }
  }
  return undefined;
}

/**
 * From now until this request's body ends, pieces past the point where the
 * body counts as fragmented are dropped before they reach the stream. The
 * parser is shared by the requests of a keep-alive connection and reused by
 * later connections: the wrapper puts node's callback back as soon as it
 * sees another request's piece, and when this request ends or closes.
 */
export function guardBodyPieces(req: IncomingMessage, dropped: () => void): void {
  const parser = (req.socket as unknown as { parser?: ParserLike | null }).parser;
  if (!parser) return;
  const slot = bodySlot(parser);
  if (slot === undefined) return;
  const original = parser[slot] as BodyCallback;
  if (original.name !== 'parserOnBody') return; // already guarded
  let pieces = 0;
  let bytes = 0;
  let dropping = false;
  const restore = (): void => {
    if (parser[slot] === guarded) parser[slot] = original;
  };
  function guarded(this: ParserLike, ...args: unknown[]): unknown {
    if (this.incoming !== req) {
      restore();
      return original.apply(this, args);
    }
    if (dropping) {
      dropped();
      return undefined;
    }
    const piece = args[0];
    pieces++;
    bytes += piece instanceof Uint8Array ? piece.byteLength : 0;
    if (tooFragmented(pieces, bytes)) dropping = true; // this piece still goes: it is the one the transport refuses on
    return original.apply(this, args);
  }
  Object.defineProperty(guarded, 'name', { value: 'guardedParserOnBody' });
  parser[slot] = guarded;
  req.once('end', restore);
  req.once('close', restore);
}
