// Where the server is: its HTTP base URL (also the WebSocket long link's
// endpoint) and its TCP long-link address, as the command lines give them.

export const DEFAULT_SERVER = 'http://127.0.0.1:8080';
export const DEFAULT_TCP = '127.0.0.1:8081';

const MAX_PORT = 65535;
const HTTP_DEFAULT_PORT = 80;

export interface HostPort {
  host: string;
  port: number;
}

/** `host:port` or `[v6]:port` → parts; a RangeError names what is wrong. */
export function parseHostPort(s: string): HostPort {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(s.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 1 || port > MAX_PORT) throw new RangeError(`expected host:port (e.g. 127.0.0.1:8081 or [::1]:8081), got '${s}'`);
  return { host: (m[1] ?? m[2])!, port };
}

/** An http:// base URL → host and port. */
export function parseServerUrl(s: string): HostPort {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    throw new RangeError(`expected an http:// URL such as ${DEFAULT_SERVER}, got '${s}'`);
  }
  if (u.protocol !== 'http:') throw new RangeError(`only http:// servers are supported, got '${s}'`);
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  return { host, port: u.port === '' ? HTTP_DEFAULT_PORT : Number(u.port) };
}

/** A host as it goes into a URL: an IPv6 address in brackets. */
export function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
