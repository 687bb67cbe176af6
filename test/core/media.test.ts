// The media commands at the node (docs/protocol.md 5.14), sans-IO: a media
// record is committed like any write; webwxsendmsgimg and webwxsendappmsg
// store a message naming the MediaId, deduplicated by ClientMsgId; a MediaId
// of another account (or none) is MEDIA_UNKNOWN with nothing stored; a fetch
// names the bytes only to the uploader and to accounts whose log holds the
// message.
import { describe, expect, it } from 'vitest';
import type { MediaRecord } from '../../server/media/media-id.ts';
import type { Harness } from '../harness/core-harness.ts';
import { STORES } from '../harness/crash-store.ts';
import type { Dev } from '../harness/dev.ts';
import { useHarness } from '../harness/use-harness.ts';

const WEB = '/cgi-bin/mmwebwx-bin/';
const MEDIA_A = '@media_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
const MEDIA_B = '@media_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB';

function record(mediaId: string, ownerUin: number, clientMediaId: string): MediaRecord {
  return { mediaId, ownerUin, clientMediaId, sha256: 'c'.repeat(64), md5: 'd'.repeat(32), size: 1234, name: 'cat.png', mediaType: 'pic', createdAt: 1 };
}

/** Commit a record through the node's command, as the upload does; returns the reply. */
function put(h: Harness, r: MediaRecord): any {
  let reply: any;
  h.node.media.put(r, (x) => (reply = x));
  h.flush();
  return reply;
}

function sendImg(h: Harness, d: Dev, to: string, mediaId: string, clientMsgId: string, endpoint = 'webwxsendmsgimg', type = 3): any {
  const Msg = { Type: type, MediaId: mediaId, Content: endpoint === 'webwxsendappmsg' ? '<appmsg><type>6</type></appmsg>' : '', FromUserName: d.userName, ToUserName: to, ClientMsgId: clientMsgId, LocalID: clientMsgId };
  return h.json(h.request('POST', `${WEB}${endpoint}?fun=async&f=json`, JSON.stringify({ BaseRequest: h.base(d), Msg, Scene: 0 })));
}

function fetchQuery(h: Harness, d: Dev): string {
  const b = h.base(d);
  return `uin=${b.Uin}&sid=${encodeURIComponent(b.Sid)}&skey=${encodeURIComponent(b.Skey)}`;
}

describe.each(STORES)('media commands (%s)', (store) => {
  const harness = useHarness();

  it('sends an image naming the sender\'s MediaId; the recipient\'s log holds it, and a retry is the same message', () => {
    const h = harness({ store });
    const a = h.user('alice');
    const b = h.user('bob');
    expect(put(h, record(MEDIA_A, a.uin, 'c1')).BaseResponse.Ret).toBe(0);
    const r = sendImg(h, a, 'bob', MEDIA_A, 'img-1');
    expect(r.BaseResponse.Ret, r.BaseResponse.ErrMsg).toBe(0);
    expect(sendImg(h, a, 'bob', MEDIA_A, 'img-1').MsgID).toBe(r.MsgID);
    const got = h.messages(b.uin).filter((m) => m.MsgId === r.MsgID);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ MsgType: 3, MediaId: MEDIA_A, Content: '' });
    expect(h.sync(b).AddMsgList).toEqual([expect.objectContaining({ MsgId: r.MsgID, MediaId: MEDIA_A })]);
  });

  it('sends an attachment with webwxsendappmsg (Type 6), stored as MsgType 49', () => {
    const h = harness({ store });
    const a = h.user('alice');
    const b = h.user('bob');
    put(h, record(MEDIA_A, a.uin, 'c1'));
    const r = sendImg(h, a, 'bob', MEDIA_A, 'app-1', 'webwxsendappmsg', 6);
    expect(r.BaseResponse.Ret, r.BaseResponse.ErrMsg).toBe(0);
    expect(h.messages(b.uin).find((m) => m.MsgId === r.MsgID)).toMatchObject({ MsgType: 49, MediaId: MEDIA_A });
    // The wrong Type for the endpoint is refused.
    expect(h.unchanged(() => sendImg(h, a, 'bob', MEDIA_A, 'app-2', 'webwxsendappmsg', 3)).BaseResponse.Ret).not.toBe(0);
  });

  it('refuses another account\'s MediaId, an unknown one and a missing one as MEDIA_UNKNOWN, storing nothing', () => {
    const h = harness({ store });
    const a = h.user('alice');
    h.user('bob');
    const c = h.user('carol');
    put(h, record(MEDIA_A, a.uin, 'c1'));
    for (const id of [MEDIA_A, MEDIA_B, 'not-a-media-id']) {
      const r = h.unchanged(() => sendImg(h, c, 'bob', id, `steal-${id.length}`));
      expect(r.BaseResponse.Ret).not.toBe(0);
      expect(r.BaseResponse.ErrMsg).toMatch(/MEDIA_UNKNOWN/);
    }
  });

  it('refuses a second record of the same upload', () => {
    const h = harness({ store });
    const a = h.user('alice');
    expect(put(h, record(MEDIA_A, a.uin, 'c1')).BaseResponse.Ret).toBe(0);
    const again = h.unchanged(() => put(h, record(MEDIA_B, a.uin, 'c1')));
    expect(again.BaseResponse.ErrMsg).toMatch(/^MEDIA_UPLOAD_MISMATCH/);
  });

  it('names the bytes to the uploader and the recipient, never to another account', () => {
    const h = harness({ store });
    const a = h.user('alice');
    const b = h.user('bob');
    const c = h.user('carol');
    put(h, record(MEDIA_A, a.uin, 'c1'));
    const msgId = sendImg(h, a, 'bob', MEDIA_A, 'img-1').MsgID as number;
    // Request ids of the calls made straight to the node, far from the harness's own.
    let nextReq = 1_000_000;
    const byMsg = (d: Dev) => h.answer(h.request('GET', `${WEB}webwxgetmsgimg?MsgID=${msgId}&type=big&${fetchQuery(h, d)}`))!;
    const byId = (d: Dev, range?: string) => {
      const req = nextReq++;
      h.node.httpRequest(req, 'GET', `${WEB}webwxgetmedia?mediaid=${encodeURIComponent(MEDIA_A)}&${fetchQuery(h, d)}`, '', 'r', h.now, range ? { range } : {});
      h.flush();
      return h.answer(req)!;
    };
    for (const d of [a, b]) {
      expect(byMsg(d)).toMatchObject({ status: 200, media: { sha256: 'c'.repeat(64), start: 0, end: 1233 } });
      expect(byId(d)).toMatchObject({ status: 200, media: { start: 0, end: 1233 } });
    }
    expect(byId(b, 'bytes=10-19')).toMatchObject({ status: 206, media: { start: 10, end: 19 }, headers: { 'Content-Range': 'bytes 10-19/1234' } });
    expect(byId(b, 'bytes=5000-')).toMatchObject({ status: 416, headers: { 'Content-Range': 'bytes */1234' } });
    for (const answer of [byMsg(c), byId(c)]) {
      expect(answer.status).toBe(404);
      expect(answer.media).toBeUndefined();
      expect(JSON.parse(answer.body).BaseResponse.ErrMsg).toMatch(/^MEDIA_UNKNOWN/);
    }
  });

  it('knows the uploader by its session, and only with its own FromUserName', () => {
    const h = harness({ store });
    const a = h.user('alice');
    const ask = (from: string): any => {
      let reply: any;
      h.node.media.uploader(h.base(a), {}, {}, from, 'r', h.now, (x) => (reply = x));
      h.flush();
      return reply;
    };
    expect(ask('alice')).toMatchObject({ BaseResponse: { Ret: 0 }, uin: a.uin });
    expect(ask('bob').BaseResponse.ErrMsg).toMatch(/^MEDIA_BAD_REQUEST/);
    let reply: any;
    h.node.media.uploader({ ...h.base(a), Skey: 'wrong' }, {}, {}, 'alice', 'r', h.now, (x) => (reply = x));
    h.flush();
    expect(reply.BaseResponse.Ret).toBe(1100);
  });
});
