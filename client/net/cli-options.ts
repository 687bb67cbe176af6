// The terminal client's command line: its usage text, and the options it
// takes, checked.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CLIENT_DEVICE_ID_RE, type ClientTransport } from '../core/client-core.ts';
import { DEFAULT_SERVER, DEFAULT_TCP, parseHostPort, parseServerUrl } from './server-address.ts';

/** What the server takes as a user name. */
const USER_NAME_RE = /^[A-Za-z0-9_-]{1,32}$/;

export const HELP = `Usage: npm run client -- --user NAME --password P [options]
       npm run client -- --user NAME --web [options]

A terminal client of the SyncKey server.

Options:
  --user NAME           account user name (required)
  --password P          password (required)
  --transport T         tcp (long link, default), ws (long link over WebSocket) or http (web polling)
  --server URL          HTTP base URL, also the WebSocket endpoint (default ${DEFAULT_SERVER})
  --tcp HOST:PORT       TCP long-link address (default ${DEFAULT_TCP})
  --web                 log in as the web client does: no password; the client prints a QR
                        code, and a phone (another client of the account) confirms it with
                        /confirm (implies --transport http)
  --register            create the account first (a taken name is fine if the password matches)
  --device ID           device id, 1-40 of [A-Za-z0-9_-] (default cli-<transport>)
  --state FILE          where to keep session, SyncKey, inbox and outbox
                        (default ./data/client-<user>-<device>.json)
  -h, --help            show this help and exit

Commands (type them, one per line):
  @user text            send text to a user
  @@group text          send text to a group: its @@id or its topic (no spaces)
  /group a,b topic      create a group with members a and b (you are added) and a topic
  /remark user name     set your remark (display name) for a user
  /resend LOCALID       send a failed message again (same ClientMsgId: stored once)
  /confirm UUID|URL     as the phone: confirm the web login whose QR code names this uuid
  /send-file @user PATH send a file (a picture by its extension, else an attachment);
                        @@group works too
  /outbox               list unsent and failed messages
  /history [N]          print the last N messages of the inbox (default 20)
  /help                 this list
  /quit                 wait (up to 5 s) for queued sends, save and exit; so does end of
                        input. Ctrl-C saves and exits at once: unsent messages stay queued

Example:
  npm start -- --db :memory: &
  npm run client -- --register --user alice --password secret
  npm run client -- --register --user bob --password secret --transport http`;

/** A bad command line: the message says what, the usage text follows. */
export class UsageError extends Error {}

export interface CliOptions {
  user: string;
  password: string;
  transport: ClientTransport;
  /** Log in by QR code (the web login). */
  web: boolean;
  server: string;
  tcp: string;
  register: boolean;
  device: string;
  state: string;
}

export function parseCli(argv: string[]): CliOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        user: { type: 'string' },
        password: { type: 'string' },
        transport: { type: 'string' },
        server: { type: 'string' },
        tcp: { type: 'string' },
        register: { type: 'boolean' },
        web: { type: 'boolean' },
        device: { type: 'string' },
        state: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (values.help) return 'help';
  if (!values.user) throw new UsageError('--user is required');
  if (!USER_NAME_RE.test(values.user)) throw new UsageError(`--user must be 1-32 of [A-Za-z0-9_-], got '${values.user}'`);
  const web = values.web ?? false;
  if (!web && (values.password === undefined || values.password === '')) throw new UsageError('--password is required (or --web)');
  if (web && values.register) throw new UsageError('--register needs a password: register from another client first');
  if (web && values.transport !== undefined && values.transport !== 'http') throw new UsageError('--web speaks HTTP only: leave out --transport');
  const transport = web ? 'http' : (values.transport ?? 'tcp');
  if (transport !== 'tcp' && transport !== 'ws' && transport !== 'http') {
    throw new UsageError(`--transport must be tcp, ws or http, got '${transport}'`);
  }
  const server = values.server ?? DEFAULT_SERVER;
  const tcp = values.tcp ?? DEFAULT_TCP;
  try {
    parseServerUrl(server);
    parseHostPort(tcp);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const device = values.device ?? (web ? 'cli-web' : `cli-${transport}`);
  if (!CLIENT_DEVICE_ID_RE.test(device)) throw new UsageError(`--device must be 1-40 of [A-Za-z0-9_-], got '${device}'`);
  return {
    user: values.user,
    password: values.password ?? '',
    transport,
    web,
    server,
    tcp,
    register: values.register ?? false,
    device,
    state: values.state ?? path.join('data', `client-${values.user}-${device}.json`),
  };
}
