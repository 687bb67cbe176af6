// `npm run client -- --user NAME --password P ...`: a terminal client on the
// reference ClientCore and the real-network adapter. It prints incoming
// messages, reads commands from stdin, shows what became of each send, and
// keeps its state (session, SyncKey, inbox, outbox) in a JSON file so a
// restart carries on where it stopped.
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import type { ClientEvent, ClientTransport } from '../core/client-core.ts';
import { NO_ANSWER } from '../core/client-core.ts';
import type { ContactItem, MessageItem, PersistedState } from '../core/client-state.ts';
import { DEFAULT_SERVER, DEFAULT_TCP, NetClient, parseHostPort, parseServerUrl, registerAccount } from './net-client.ts';

const HELP = `Usage: npm run client -- --user NAME --password P [options]

A terminal client of the SyncKey server.

Options:
  --user NAME           account user name (required)
  --password P          password (required)
  --transport T         tcp (long link, default), ws (long link over WebSocket) or http (web polling)
  --server URL          HTTP base URL, also the WebSocket endpoint (default ${DEFAULT_SERVER})
  --tcp HOST:PORT       TCP long-link address (default ${DEFAULT_TCP})
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
  /outbox               list unsent and failed messages
  /history [N]          print the last N messages of the inbox (default 20)
  /help                 this list
  /quit                 wait (up to 5 s) for queued sends, save and exit; so does end of
                        input. Ctrl-C saves and exits at once: unsent messages stay queued

Example:
  npm start -- --db :memory: &
  npm run client -- --register --user alice --password secret
  npm run client -- --register --user bob --password secret --transport http`;

class UsageError extends Error {}

export interface CliOptions {
  user: string;
  password: string;
  transport: ClientTransport;
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
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(values.user)) throw new UsageError(`--user must be 1-32 of [A-Za-z0-9_-], got '${values.user}'`);
  if (values.password === undefined || values.password === '') throw new UsageError('--password is required');
  const transport = values.transport ?? 'tcp';
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
  const device = values.device ?? `cli-${transport}`;
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(device)) throw new UsageError(`--device must be 1-40 of [A-Za-z0-9_-], got '${device}'`);
  return {
    user: values.user,
    password: values.password,
    transport,
    server,
    tcp,
    register: values.register ?? false,
    device,
    state: values.state ?? path.join('data', `client-${values.user}-${device}.json`),
  };
}

function clock(seconds: number): string {
  return new Date(seconds * 1000).toTimeString().slice(0, 8);
}

/** The terminal UI around one NetClient. */
class Terminal {
  readonly client: NetClient;
  readonly #o: CliOptions;
  readonly #contacts = new Map<string, ContactItem>();
  #saveTimer: NodeJS.Timeout | undefined;
  #quitting = false;

  constructor(o: CliOptions, persisted: PersistedState | undefined) {
    this.#o = o;
    for (const c of persisted?.contacts ?? []) this.#contacts.set(c.UserName, c);
    this.client = new NetClient({
      userName: o.user,
      password: o.password,
      deviceId: o.device,
      transport: o.transport,
      server: o.server,
      tcp: o.tcp,
      ...(persisted ? { persisted } : {}),
      onEvent: (e) => this.#event(e),
    });
  }

  say(line: string): void {
    process.stdout.write(`${line}\n`);
  }

  /** A user's or group's display name: the remark, else the group topic, else the name. */
  name(userName: string): string {
    const c = this.#contacts.get(userName);
    if (c?.RemarkName) return c.RemarkName;
    if (userName.startsWith('@@') && c?.NickName) return c.NickName;
    return userName;
  }

  format(m: MessageItem): string {
    return `[${clock(m.CreateTime)}] ${this.name(m.FromUserName)} → ${this.name(m.ToUserName)}: ${m.Content}`;
  }

  #event(e: ClientEvent): void {
    switch (e.kind) {
      case 'loggedIn':
        this.say(`logged in as ${this.#o.user} (uin ${e.uin}) over ${this.#o.transport}, device ${this.#o.device}; /help lists the commands`);
        break;
      case 'applied':
        // Our own sends were already reported as "sent ✓"; their echo to this device is not news.
        if (!(e.msg.FromUserName === this.#o.user && e.msg.ClientMsgId.startsWith(`${this.#o.device}-`))) this.say(this.format(e.msg));
        break;
      case 'contact': {
        const before = this.#contacts.get(e.contact.UserName);
        this.#contacts.set(e.contact.UserName, e.contact);
        if (e.contact.UserName.startsWith('@@') && !before) {
          this.say(`* group ${e.contact.NickName || e.contact.UserName} (${e.contact.UserName}): ${e.contact.MemberList.join(', ')}`);
        } else if (before?.RemarkName !== e.contact.RemarkName && e.contact.RemarkName) {
          this.say(`* ${e.contact.UserName} is now shown as '${e.contact.RemarkName}'`);
        }
        break;
      }
      case 'sendAcked':
        this.say(`sent ✓ local ${e.localId} MsgID ${e.msgId}${e.attempts > 1 ? ` (after ${e.attempts} attempts)` : ''}`);
        break;
      case 'sendFailed': {
        const why = e.ret === NO_ANSWER ? e.errMsg || 'no answer from the server' : `Ret ${e.ret}${e.errMsg ? `: ${e.errMsg}` : ''}`;
        this.say(`failed ✗ local ${e.localId}: ${why}; type /resend ${e.localId} to try again`);
        break;
      }
      case 'groupCreated':
        this.say(`* created group ${e.chatRoomName} with ${e.members.join(', ')}; send with @@${e.chatRoomName.slice(2)} text`);
        break;
      case 'resync':
        this.say('* the server no longer holds part of our history: resynchronising');
        break;
      case 'sessionLost':
        if (e.ret === 1103) this.fatal('wrong user name or password (use --register to create the account)');
        else this.fatal(`session ended (Ret ${e.ret}): this device logged in elsewhere or was logged out; start again to log in`);
        return;
      case 'syncKey':
        break;
    }
    this.scheduleSave();
  }

  /** Resolves `@@token`: a chat room's @@id, or a group topic (case-insensitive). */
  #group(token: string): string | undefined {
    const direct = `@@${token}`;
    if (this.#contacts.has(direct)) return direct;
    const hits = [...this.#contacts.values()].filter(
      (c) => c.UserName.startsWith('@@') && (c.NickName.toLowerCase() === token.toLowerCase() || c.RemarkName === token),
    );
    if (hits.length === 1) return hits[0]!.UserName;
    if (hits.length > 1) this.say(`more than one group is called '${token}': use its id (${hits.map((h) => h.UserName).join(', ')})`);
    else this.say(`no group '${token}' known yet; groups: ${this.#groups() || 'none'}`);
    return undefined;
  }

  #groups(): string {
    return [...this.#contacts.values()]
      .filter((c) => c.UserName.startsWith('@@'))
      .map((c) => `${c.UserName} (${c.NickName})`)
      .join(', ');
  }

  command(line: string): void {
    const text = line.trim();
    if (text === '') return;
    try {
      this.#command(text);
    } catch (e) {
      this.say(`error: ${(e as Error).message}`);
    }
    this.scheduleSave();
  }

  #command(text: string): void {
    let m: RegExpExecArray | null;
    if ((m = /^@@(\S+)\s+([\s\S]+)$/.exec(text))) {
      const to = this.#group(m[1]!);
      if (to) this.say(`queued local ${this.client.send(to, m[2]!)} → ${this.name(to)}`);
    } else if ((m = /^@([A-Za-z0-9_-]{1,32})\s+([\s\S]+)$/.exec(text))) {
      this.say(`queued local ${this.client.send(m[1]!, m[2]!)} → ${this.name(m[1]!)}`);
    } else if ((m = /^\/group\s+(\S+)\s+(.+)$/.exec(text))) {
      const members = m[1]!.split(',').filter(Boolean);
      this.client.createChatRoom(members, m[2]!.trim());
      this.say(`creating group '${m[2]!.trim()}' with ${members.join(', ')}…`);
    } else if ((m = /^\/remark\s+(\S+)\s+(.+)$/.exec(text))) {
      this.client.setRemark(m[1]!, m[2]!.trim());
      this.say(`setting remark of ${m[1]} to '${m[2]!.trim()}'…`);
    } else if ((m = /^\/resend\s+(\S+)$/.exec(text))) {
      const e = this.client.core.outbox().find((x) => x.localId === m![1]);
      if (!e) this.say(`no unsent message with local id ${m[1]} (/outbox lists them)`);
      else if (e.state !== 'failed') this.say(`local ${m[1]} is still being sent (${e.state}); nothing to do`);
      else {
        this.client.resend(m[1]!);
        this.say(`resending local ${m[1]} → ${this.name(e.to)}`);
      }
    } else if (text === '/outbox') {
      const list = this.client.core.outbox();
      if (list.length === 0) this.say('outbox empty');
      for (const e of list) {
        this.say(`  local ${e.localId} → ${this.name(e.to)} [${e.state}${e.lastErrMsg ? `: ${e.lastErrMsg}` : ''}]: ${e.content}`);
      }
    } else if ((m = /^\/history(?:\s+(\d+))?$/.exec(text))) {
      const n = Number(m[1] ?? 20);
      const inbox = this.client.core.inbox();
      for (const msg of inbox.slice(Math.max(0, inbox.length - n))) this.say(this.format(msg));
    } else if (text === '/help') {
      this.say(HELP.slice(HELP.indexOf('Commands')));
    } else if (text === '/quit') {
      this.finish();
    } else {
      this.say(`not understood: '${text}'; /help lists the commands`);
    }
  }

  scheduleSave(): void {
    if (this.#saveTimer || this.#quitting) return;
    this.#saveTimer = setTimeout(() => {
      this.#saveTimer = undefined;
      this.save();
    }, 100);
  }

  /** Writes the state atomically: a temporary file, then a rename. */
  save(): void {
    const file = this.#o.state;
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const tmp = `${file}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(this.client.core.persisted()));
    fs.renameSync(tmp, file);
  }

  /** /quit and end of input: let queued sends go out (at most 5 s; what is left stays in the outbox), then quit. */
  finish(): void {
    const deadline = Date.now() + 5000;
    const check = (): void => {
      const busy = this.client.core.outbox().some((e) => e.state !== 'failed');
      if (!busy || Date.now() >= deadline || this.client.core.state === 'stopped') return this.quit(0);
      setTimeout(check, 20);
    };
    check();
  }

  quit(code: number): void {
    if (this.#quitting) return;
    this.#quitting = true;
    if (this.#saveTimer) clearTimeout(this.#saveTimer);
    try {
      this.save();
    } catch (e) {
      process.stderr.write(`error: could not save ${this.#o.state}: ${(e as Error).message}\n`);
      code = code || 1;
    }
    this.client.close();
    process.exit(code);
  }

  fatal(why: string): void {
    process.stderr.write(`error: ${why}\n`);
    this.quit(1);
  }
}

function loadState(file: string): PersistedState | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  return JSON.parse(text) as PersistedState;
}

async function main(): Promise<void> {
  let o: CliOptions | 'help';
  try {
    o = parseCli(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message}\n\n${HELP}\n`);
    process.exit(2);
  }
  if (o === 'help') {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  if (o.register) {
    try {
      const r = await registerAccount(o.server, o.user, o.password);
      if (r.ret === 0) process.stdout.write(`registered ${o.user} (uin ${r.uin})\n`);
      else if (r.ret === 1104) process.stdout.write(`${o.user} is already registered; logging in\n`);
      else throw new Error(`Ret ${r.ret}: ${r.errMsg}`);
    } catch (e) {
      process.stderr.write(`error: cannot register at ${o.server}: ${(e as Error).message} (is the server running? npm start)\n`);
      process.exit(1);
    }
  }
  let persisted: PersistedState | undefined;
  try {
    persisted = loadState(o.state);
  } catch (e) {
    process.stderr.write(`error: cannot read ${o.state}: ${(e as Error).message} (move it away to start afresh)\n`);
    process.exit(1);
  }
  let t: Terminal;
  try {
    t = new Terminal(o, persisted);
  } catch (e) {
    process.stderr.write(`error: ${o.state} does not fit: ${(e as Error).message} (pass another --state, or move it away)\n`);
    process.exit(1);
  }
  const inbox = t.client.core.inbox().length;
  const where = o.transport === 'tcp' ? o.tcp : o.server;
  t.say(`connecting to ${where} over ${o.transport} as ${o.user}${inbox ? ` (${inbox} messages kept in ${o.state})` : ''}…`);
  t.client.start();
  // A server that is down or unreachable: the client keeps retrying; say so, with what to check.
  const hint = setInterval(() => {
    if (t.client.core.state === 'ready' || t.client.core.state === 'stopped') return clearInterval(hint);
    const s = t.client.stats;
    t.say(
      `* still connecting to ${where} (${o.transport === 'http' ? `${s.httpFailures} failed requests` : `${s.linkConnects} connection attempts`}); ` +
        `is the server running (npm start) and are --server/--tcp right? Retrying; /quit to stop`,
    );
  }, 5000);
  hint.unref();
  const rl = readline.createInterface({ input: process.stdin, terminal: false });
  rl.on('line', (line) => t.command(line));
  rl.on('close', () => t.finish());
  process.on('SIGINT', () => t.quit(0));
  process.on('SIGTERM', () => t.quit(0));
}

void main();
