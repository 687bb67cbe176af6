// Creating a chat room with some of the model's users.
import { expect } from 'vitest';
import type { Harness } from '../../harness/core-harness.ts';
import { expectRet, settle } from '../model-checks.ts';
import { append, base, pick, sessionRet, slotOf, type Cmd, type Model } from '../reference-model.ts';

export class CreateRoom implements Cmd {
  constructor(
    readonly who: number,
    readonly members: string[],
  ) {}
  private name = '';
  private slot = '';
  check(m: Model): boolean {
    return pick(m, this.who) !== undefined;
  }
  run(m: Model, h: Harness): void {
    const c = pick(m, this.who)!;
    this.name = c.account;
    this.slot = slotOf(c);
    const s = m.server;
    const members = [this.name];
    for (const x of this.members) if (!members.includes(x)) members.push(x);
    let expected: { ret: number; room?: string };
    const replaced = sessionRet(m, c);
    if (replaced) expected = { ret: replaced };
    else if (members.slice(1).some((x) => !s.accounts.has(x))) expected = { ret: 1106 };
    else if (members.length < 2) expected = { ret: 1102 };
    else {
      const room = `@@${++s.nextGroupId}`;
      s.groups.set(room, members);
      for (const a of members) append(s, a, 2);
      expected = { ret: 0, room };
    }
    const req = h.post('webwxcreatechatroom', {
      BaseRequest: base(c),
      MemberCount: this.members.length,
      MemberList: this.members.map((UserName) => ({ UserName })),
      Topic: 'room',
    });
    m.pending.push({
      req,
      what: this.toString(),
      check: (b) => {
        expectRet(b, expected.ret, this.toString());
        if (expected.ret !== 0) return;
        expect(b.ChatRoomName).toBe(expected.room);
        m.rooms.push(b.ChatRoomName);
      },
    });
    settle(m, h);
  }
  toString(): string {
    return `createRoom(${this.name}#${this.slot}: ${this.members.join(', ')})`;
  }
}
