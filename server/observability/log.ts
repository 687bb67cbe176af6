// The server's structured log: one JSON line per event (pino), on stderr so
// that stdout keeps the one ready line `npm start` prints. What is logged is
// chosen field by field at each call site; nothing logs a request or packet
// body, so a password, Sid, Skey or ticket has no way in. The redact list is
// a second line of defence for a field someone adds by mistake.
import { createHmac, randomBytes } from 'node:crypto';
import pino from 'pino';

export type Logger = pino.Logger;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const DEFAULT_LOG_LEVEL: LogLevel = 'info';

/** Field names that hold secrets, wherever they sit in a logged object. */
const SECRET_FIELDS = ['password', 'Password', 'Pwd', 'Sid', 'sid', 'Skey', 'skey', 'SKey', 'Ticket', 'ticket', 'token', 'authorization'];

export function isLogLevel(s: string): s is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(s);
}

/** A logger at `level` writing to `destination` (default: stderr, synchronously, so a line is out before an exit). */
export function createLogger(level: LogLevel = DEFAULT_LOG_LEVEL, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { name: 'synckey' },
      redact: { paths: [...SECRET_FIELDS, ...SECRET_FIELDS.map((f) => `*.${f}`)], censor: '[redacted]' },
    },
    destination ?? pino.destination({ fd: 2, sync: true }),
  );
}

/** A logger that drops everything (tests and embedders that pass none). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** Hex characters of an address tag: enough to tell abusers apart, far too few to be a fingerprint. */
const ADDRESS_TAG_HEX = 12;

// Per process: a tag is stable while the server runs (one abuser's lines can
// be followed) but cannot be reversed by hashing every IPv4 address, since the
// key is never written anywhere.
const addressKey = randomBytes(32);

/**
 * A peer address as logs show it: a keyed hash, never the address. A client's
 * IP address is personal data; an operator who must block one finds it from
 * the tag with their own connection logs or a firewall, not from ours.
 */
export function addressTag(address: string | undefined): string {
  if (address === undefined || address === '') return 'unknown';
  return createHmac('sha256', addressKey).update(address).digest('hex').slice(0, ADDRESS_TAG_HEX);
}
