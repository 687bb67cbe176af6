// One end-to-end conversation, run on any deployment: two accounts register,
// each logs in a device on every transport (tcp, ws, http), they send direct
// messages both ways, make a group and talk in it from every device, and the
// server restarts in the middle of a stream of sends. Every device must end
// with every acknowledged message exactly once, in the server's order, each
// sender's messages in the order they were written, and no SyncKey may ever
// go back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientTransport } from '../../client/core/client-core.ts';
import type { MessageItem } from '../../client/core/client-state.ts';
import type { Deployment, E2eDevice } from './deployment.ts';

const ACCOUNTS = ['alice', 'bob'] as const;
const TRANSPORTS: readonly ClientTransport[] = ['tcp', 'ws', 'http'];
const PASSWORD = 'pw-e2e-suite';
/** The server's Ret for a name already taken. */
const NAME_TAKEN = 1104;
const DIRECT_ROUNDS = 3;
const GROUP_ROUNDS = 2;
/** Rounds sent from every device around the restart; the server goes down once this many sends are acknowledged. */
const STREAM_ROUNDS = 4;
const ACKED_BEFORE_RESTART = 6;

export function conversationSuite(title: string, deploy: () => Deployment): void {
  describe(title, () => {
    const d = deploy();
    const devices: E2eDevice[] = [];
    /** `device/LocalID` → MsgID of every acknowledged send. */
    const acked = new Map<string, number>();
    /** `device/LocalID` → what the user wrote, for every send. */
    const written = new Map<string, string>();
    let room = '';

    const inbox = (x: E2eDevice): readonly MessageItem[] => x.core.inbox();
    const other = (x: E2eDevice): string => (x.user === 'alice' ? 'bob' : 'alice');
    const send = (x: E2eDevice, to: string, content: string): void => {
      written.set(`${x.name}/${x.send(to, content)}`, content);
    };
    const collectAcks = (): void => {
      for (const x of devices) for (const e of x.events) if (e.kind === 'sendAcked') acked.set(`${x.name}/${e.localId}`, e.msgId);
    };
    const allDelivered = (): boolean => {
      collectAcks();
      if (acked.size !== written.size) return false;
      const ids = new Set(acked.values());
      return devices.every((x) => x.core.outbox().length === 0 && inbox(x).filter((m) => ids.has(m.MsgId)).length === ids.size);
    };
    const progress = (): string =>
      `acked ${acked.size}/${written.size}; inboxes ${devices.map((x) => `${x.name}=${inbox(x).length}`).join(' ')}; outboxes ${devices
        .map((x) => x.core.outbox().length)
        .join(',')}`;

    /** Every device holds every acknowledged message once, all in one (the server's) order, each sender's in its own order. */
    const expectConverged = (): void => {
      for (const x of devices) {
        expect(x.events.filter((e) => e.kind === 'sendFailed'), x.name).toEqual([]);
        expect(x.events.filter((e) => e.kind === 'sessionLost'), x.name).toEqual([]);
      }
      const ids = new Set(acked.values());
      expect(ids.size, 'one MsgID per send').toBe(acked.size);
      const ref = inbox(devices[0]!).map((m) => m.MsgId);
      expect(new Set(ref)).toEqual(ids);
      expect([...ref].sort((a, b) => a - b)).toEqual(ref);
      for (const x of devices) {
        expect(inbox(x).map((m) => m.MsgId), x.name).toEqual(ref);
        expectKeyNeverBack(x);
      }
      // Integrity and the user's order: what arrived is what was written, in each conversation in the order written.
      const byMsgId = new Map(inbox(devices[0]!).map((m) => [m.MsgId, m]));
      for (const x of devices) {
        const mine = [...acked].filter(([k]) => k.startsWith(`${x.name}/`));
        for (const [k, msgId] of mine) expect(byMsgId.get(msgId)?.Content).toBe(written.get(k));
        for (const to of new Set(mine.map(([, msgId]) => byMsgId.get(msgId)?.ToUserName))) {
          const order = mine.map(([, msgId]) => msgId).filter((msgId) => byMsgId.get(msgId)?.ToUserName === to);
          expect(order, `${x.name}'s sends to ${to} in the order written`).toEqual([...order].sort((a, b) => a - b));
        }
      }
    };

    beforeAll(async () => {
      await d.start();
    });

    afterAll(async () => {
      await d.stop();
    });

    it('registers two accounts, then logs in a device of each on every transport', async () => {
      for (const user of ACCOUNTS) expect(await d.register(user, PASSWORD)).toBe(0);
      expect(await d.register('bob', PASSWORD)).toBe(NAME_TAKEN);
      for (const transport of TRANSPORTS) {
        for (const user of ACCOUNTS) {
          const name = `${user}-${transport}`;
          devices.push(d.addDevice({ name, user, password: PASSWORD, deviceId: name, transport }));
        }
      }
      await d.until(() => devices.every((x) => x.core.state === 'ready'), progress);
      for (const x of devices) expect(x.events.filter((e) => e.kind === 'loggedIn'), x.name).toHaveLength(1);
    });

    it('carries direct messages both ways over every transport to every device of both accounts', async () => {
      for (let i = 0; i < DIRECT_ROUNDS; i++) {
        for (const x of devices) send(x, other(x), `${x.name} #${i} ✓ "ünïcødé" \\ </script>`);
      }
      await d.until(allDelivered, progress);
      expect(acked.size).toBe(devices.length * DIRECT_ROUNDS);
      expectConverged();
      const m = inbox(devices[1]!).find((x) => x.Content === 'alice-ws #2 ✓ "ünïcødé" \\ </script>');
      expect(m).toMatchObject({ FromUserName: 'alice', ToUserName: 'bob', MsgType: 1 });
    });

    it('makes a group every device sees, and orders its messages from all six devices the same way everywhere', async () => {
      const maker = devices[0]!;
      maker.createChatRoom([other(maker)], 'both of us');
      await d.until(() => maker.events.some((e) => e.kind === 'groupCreated'), progress);
      const made = maker.events.find((e) => e.kind === 'groupCreated');
      room = made?.kind === 'groupCreated' ? made.chatRoomName : '';
      expect(room).toMatch(/^@@/);
      const sees = (x: E2eDevice): boolean => x.core.contacts().some((c) => c.UserName === room && c.MemberList.length === ACCOUNTS.length);
      await d.until(() => devices.every(sees), () => `the group on ${devices.filter((x) => !sees(x)).map((x) => x.name).join(', ')}`);
      for (const x of devices) expect([...x.core.contacts().find((c) => c.UserName === room)!.MemberList].sort(), x.name).toEqual([...ACCOUNTS]);

      for (let i = 0; i < GROUP_ROUNDS; i++) for (const x of devices) send(x, room, `${x.name} in the group #${i}`);
      await d.until(allDelivered, progress);
      expectConverged();
      const inRoom = inbox(devices[0]!).filter((m) => m.ToUserName === room);
      expect(inRoom).toHaveLength(devices.length * GROUP_ROUNDS);
    });

    it('loses nothing and doubles nothing when the server restarts in the middle of a stream of sends', async () => {
      const before = acked.size;
      for (let i = 0; i < STREAM_ROUNDS; i++) {
        for (const x of devices) send(x, i % 2 === 0 ? room : other(x), `${x.name} stream ${i}`);
      }
      await d.until(() => {
        collectAcks();
        return acked.size >= before + ACKED_BEFORE_RESTART;
      }, progress);
      await d.restartServer();
      for (const x of devices) send(x, room, `${x.name} after the restart`);
      await d.until(allDelivered, progress);
      expect(acked.size).toBe(before + devices.length * (STREAM_ROUNDS + 1));
      expectConverged();
      // Sessions were kept: every device carried on without a new password login.
      for (const x of devices) expect(x.events.filter((e) => e.kind === 'loggedIn'), x.name).toHaveLength(1);
    });
  });
}

/** The highest value each SyncKey key ever had only grows. */
function expectKeyNeverBack(x: E2eDevice): void {
  const best = new Map<number, number>();
  for (const e of x.events) {
    if (e.kind !== 'syncKey') continue;
    for (const [k, v] of e.key) {
      expect(v, `${x.name}: key ${k} went back`).toBeGreaterThanOrEqual(best.get(k) ?? 0);
      best.set(k, v);
    }
  }
}
