// Stopping an HTTP connection's input for good, once the server has
// refused what it was sending (server/transport/http-transport.ts).
import type { Duplex } from 'node:stream';

interface HttpSocketInternals {
  parser?: { pause?: () => void } | null;
  _paused?: boolean;
  _handle?: { readStop?: () => number } | null;
}

/**
 * Stop parsing and reading an HTTP connection for good. socket.pause() alone
 * does not: the request stream resumes the socket whenever it wants more,
 * and the server un-pauses it on 'drain'; each one-byte chunk of a trickled
 * body then costs a parser callback and a stream push (profiled: most of the
 * server's CPU under the abuse profile's chunked-body attack). So the parser
 * pauses (it stops in the middle of the buffer it is parsing), the server's
 * own pause flag is set (the request stream then leaves the socket alone),
 * the drain handler that would clear it goes, and libuv stops reading. These
 * are internals of node:http and node:net, each used only if it is there.
 */
export function stopReading(socket: Duplex): void {
  const s = socket as unknown as HttpSocketInternals;
  if (typeof s.parser?.pause === 'function') s.parser.pause();
  s._paused = true;
  socket.removeAllListeners('drain');
  socket.pause();
  if (typeof s._handle?.readStop === 'function') s._handle.readStop();
}
