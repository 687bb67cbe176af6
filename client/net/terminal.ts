// The terminal UI around one NetClient: prints incoming messages and what
// became of each send, reads commands, and saves the state to a JSON file
// soon after every change.
import fs from 'node:fs';
import path from 'node:path';
import { Ret } from '../../server/core/ret.ts';
import { NO_ANSWER, type ClientEvent } from '../core/client-core.ts';
import type { ContactItem, MessageItem, PersistedState } from '../core/client-state.ts';
import { GROUP_PREFIX, isGroupName } from '../core/contact-ops.ts';
import { HELP, type CliOptions } from './cli-options.ts';
import { NetClient } from './net-client.ts';
import QRCode from 'qrcode';

/** Changes within this long are saved together. */
const SAVE_DELAY_MS = 100;
/** /quit and end of input wait this long at most for queued sends. */
const QUIT_WAIT_MS = 5000;
const QUIT_CHECK_MS = 20;
/** MsgTypes shown as media: a picture, an attachment (appmsg). */
const IMAGE_MSG = 3;
const APP_MSG = 49;
/** What /history prints without a count. */
const DEFAULT_HISTORY = 20;

function clock(seconds: number): string {
  return new Date(seconds * 1000).toTimeString().slice(0, 8);
}

/** What a message shows: its text, or what its media is (fetch it with webwxgetmsgimg / webwxgetmedia). */
function body(m: MessageItem): string {
  if (m.MsgType === IMAGE_MSG) return `[picture ${m.MediaId ?? ''}]`;
  if (m.MsgType === APP_MSG) return `[file ${/<title>([^<]*)<\/title>/.exec(m.Content)?.[1] ?? ''} ${m.MediaId ?? ''}]`;
  return m.Content;
}

/** The terminal UI around one NetClient. */
export class Terminal {
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
      ...(o.web ? { login: 'qr' as const } : {}),
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
    if (isGroupName(userName) && c?.NickName) return c.NickName;
    return userName;
  }

  format(m: MessageItem): string {
    return `[${clock(m.CreateTime)}] ${this.name(m.FromUserName)} → ${this.name(m.ToUserName)}: ${body(m)}`;
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
        if (isGroupName(e.contact.UserName) && !before) {
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
        this.say(`* created group ${e.chatRoomName} with ${e.members.join(', ')}; send with ${e.chatRoomName} text`);
        break;
      case 'resync':
        this.say('* the server no longer holds part of our history: resynchronising');
        break;
      case 'sessionLost':
        if (e.ret === Ret.AuthFailed) this.fatal('wrong user name or password (use --register to create the account)');
        else this.fatal(`session ended (Ret ${e.ret}): this device logged in elsewhere or was logged out; start again to log in`);
        return;
      case 'qrCode':
        this.#showQr(e.uuid);
        break;
      case 'qrScanned':
        this.say('* scanned: confirm the login on the phone');
        break;
      case 'webLogin':
        if (e.confirmed) this.say(`* web login confirmed: ${e.loginUrl}`);
        else this.say(`* web login not confirmed (${e.ret === NO_ANSWER ? e.errMsg : `Ret ${e.ret}: ${e.errMsg}`}): ${e.loginUrl}`);
        break;
      case 'syncKey':
        break;
    }
    this.scheduleSave();
  }

  /** Resolves `@@token`: a chat room's @@id, or a group topic (case-insensitive). */
  #group(token: string): string | undefined {
    const direct = `${GROUP_PREFIX}${token}`;
    if (this.#contacts.has(direct)) return direct;
    const hits = [...this.#contacts.values()].filter(
      (c) => isGroupName(c.UserName) && (c.NickName.toLowerCase() === token.toLowerCase() || c.RemarkName === token),
    );
    if (hits.length === 1) return hits[0]!.UserName;
    if (hits.length > 1) this.say(`more than one group is called '${token}': use its id (${hits.map((h) => h.UserName).join(', ')})`);
    else this.say(`no group '${token}' known yet; groups: ${this.#groups() || 'none'}`);
    return undefined;
  }

  #groups(): string {
    return [...this.#contacts.values()]
      .filter((c) => isGroupName(c.UserName))
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
    } else if ((m = /^\/confirm\s+(\S+)$/.exec(text))) {
      const url = /^https?:\/\//.test(m[1]!) ? m[1]! : `${this.#o.server.replace(/\/$/, '')}/l/${m[1]}`;
      this.client.input((now) => this.client.core.confirmWebLogin(url, now));
      this.say(`confirming the web login ${url}…`);
    } else if ((m = /^\/send-file\s+(@@?)(\S+)\s+(.+)$/.exec(text))) {
      const to = m[1] === '@@' ? this.#group(m[2]!) : m[2]!;
      const file = m[3]!.trim();
      if (to) {
        this.say(`uploading ${file} → ${this.name(to)}…`);
        this.client.sendFile(to, file).then(
          (id) => this.say(`queued local ${id} (${file}) → ${this.name(to)}`),
          (e: Error) => this.say(`error: ${e.message}`),
        );
      }
    } else if (text === '/outbox') {
      const list = this.client.core.outbox();
      if (list.length === 0) this.say('outbox empty');
      for (const e of list) {
        this.say(`  local ${e.localId} → ${this.name(e.to)} [${e.state}${e.lastErrMsg ? `: ${e.lastErrMsg}` : ''}]: ${e.content}`);
      }
    } else if ((m = /^\/history(?:\s+(\d+))?$/.exec(text))) {
      const n = Number(m[1] ?? DEFAULT_HISTORY);
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

  /** The code a phone scans: `<server>/l/<uuid>`, drawn with text blocks. */
  #showQr(uuid: string): void {
    const url = `${this.#o.server.replace(/\/$/, '')}/l/${uuid}`;
    QRCode.toString(url, { type: 'terminal', small: true }).then(
      (art) => this.say(`${art}\nscan with the phone, or there type: /confirm ${uuid}\n(${url}; it expires: a new code follows)`),
      () => this.say(`scan ${url} with the phone, or there type: /confirm ${uuid}`),
    );
  }

  scheduleSave(): void {
    if (this.#saveTimer || this.#quitting) return;
    this.#saveTimer = setTimeout(() => {
      this.#saveTimer = undefined;
      this.save();
    }, SAVE_DELAY_MS);
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
    const deadline = Date.now() + QUIT_WAIT_MS;
    const check = (): void => {
      const busy = this.client.core.outbox().some((e) => e.state !== 'failed');
      if (!busy || Date.now() >= deadline || this.client.core.state === 'stopped') return this.quit(0);
      setTimeout(check, QUIT_CHECK_MS);
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
