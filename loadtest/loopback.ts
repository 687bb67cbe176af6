// Load tests run on loopback only: any host outside 127.0.0.0/8, localhost
// and ::1 is refused, so that no profile can be pointed at someone else's server.
import net from 'node:net';

/** Throws unless `host` is a loopback address: 127.0.0.0/8, localhost or ::1. */
export function assertLoopback(host: string): void {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const ok = h === 'localhost' || h === '::1' || (net.isIPv4(h) && h.split('.')[0] === '127');
  if (!ok) throw new RangeError(`load tests run on loopback only (127.0.0.0/8, localhost, ::1); refusing '${host}'`);
}
