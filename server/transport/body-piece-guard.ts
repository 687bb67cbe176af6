// Keeps a trickled body from costing the server a call into JavaScript per piece.
// node:http parses what one socket read brought in one go, in C++, and hands
// every body piece to JavaScript, which pushes it into the request stream (a
// Buffer, a queue entry, a scheduled tick each): a 64 KiB read of one-byte
// chunks is about 11,000 pushes, all made before any 'data' listener sees the
// first one, and pausing the parser only takes effect after the read is
// parsed. Profiled under the abuse profile's chunked-body attack, those
// pushes, and then the calls alone, were most of the server's CPU. The guard
// lets through the pieces BodyBuffer needs to see that the body is
// fragmented, and has node's parser skip the rest; the transport then
// refuses the request as before.
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

/** What the guard tells the transport: each piece it saw, and the cut. */
export interface BodyGuardHooks {
  /** A piece of a guarded body reached JavaScript. */
  piece: () => void;
  /** The body counts as fragmented: the parser drops the rest of it in C++. */
  cut: () => void;
}

/**
 * Once this request's body counts as fragmented, the parser's body slot holds
 * no function until the request ends or its socket closes: node's C++ side
 * then skips the piece without a Buffer or a call into JavaScript (measured
 * here: a 64 KiB read of one-byte chunks blocked the loop about 70 ms with a
 * callback that returns at once, about 7 ms without one). The parser is
 * shared by the requests of a keep-alive connection and reused by later
 * connections: the callback is put back when this request ends or closes and
 * when its socket closes (the server frees the parser in its own 'close'
 * listener, which runs first, and no connection can take it in between).
 * The transport serves no later request of a socket it cut
 * (server/transport/http-transport.ts), so a pipelined request whose body
 * the parser skipped is never run.
 */
export function guardBodyPieces(req: IncomingMessage, hooks: BodyGuardHooks): void {
  const parser = (req.socket as unknown as { parser?: ParserLike | null }).parser;
  if (!parser) return;
  const slot = bodySlot(parser);
  if (slot === undefined) return;
  const original = parser[slot] as BodyCallback;
  if (typeof original !== 'function' || original.name !== 'parserOnBody') return; // already guarded, or cut
  // Narrowed once for the closures below (a function declaration loses the narrowing).
  const p: ParserLike = parser;
  const key: string = slot;
  let pieces = 0;
  let bytes = 0;
  let cut = false;
  const restore = (): void => {
    if (p[key] === guarded || (cut && p[key] === SKIP)) p[key] = original;
  };
  function guarded(this: ParserLike, ...args: unknown[]): unknown {
    if (this.incoming !== req) {
      restore();
      return original.apply(this, args);
    }
    hooks.piece();
    const piece = args[0];
    pieces++;
    bytes += piece instanceof Uint8Array ? piece.byteLength : 0;
    if (tooFragmented(pieces, bytes)) {
      // This piece still goes: it is the one the transport refuses on.
      cut = true;
      p[key] = SKIP;
      hooks.cut();
    }
    return original.apply(this, args);
  }
  Object.defineProperty(guarded, 'name', { value: 'guardedParserOnBody' });
  p[key] = guarded;
  const socket = req.socket;
  const done = (): void => {
    restore();
    socket.off('close', done);
  };
  req.once('end', done);
  req.once('close', done);
  socket.once('close', done);
}

/** Not a function: node's parser checks and skips the piece. */
const SKIP = null;
