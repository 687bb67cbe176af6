// A file uploaded as the web client uploads it (docs/protocol.md 5.14):
// webwxuploadmedia, one multipart request per 512 KiB chunk, the fields first
// and the file part last; a chunk the server already has is skipped where its
// answer's StartPos says so, and a request that fails is tried again a few
// times (every chunk carries the same ClientMediaId, so the server resumes).
// The MediaId it answers is what a picture or an attachment message names.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { UPLOAD_PATH } from '../../server/node/http-api.ts';
import type { SessionInfo } from '../core/client-state.ts';

/** The web client's chunk size: files over it go up in chunks. */
const CHUNK_BYTES = 512 * 1024;
/** Tries per chunk before the upload gives up. */
const TRIES = 4;
const RETRY_DELAY_MS = 500;
const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg', '.gif', '.bmp', '.webp']);

export interface UploadedFile {
  mediaId: string;
  /** The name the recipient sees. */
  name: string;
  bytes: number;
  /** A picture goes as MsgType 3, anything else as an attachment. */
  image: boolean;
}

export interface UploadWho {
  /** The server's HTTP base URL. */
  server: string;
  session: SessionInfo;
  deviceId: string;
  userName: string;
}


/** Uploads `file` for a message to `to`; resolves with its MediaId, or rejects with the server's refusal. */
export async function uploadFile(who: UploadWho, file: string, to: string): Promise<UploadedFile> {
  const data = await fs.promises.readFile(file);
  const name = path.basename(file);
  const image = IMAGE_EXT.has(path.extname(name).toLowerCase());
  const md5 = crypto.createHash('md5').update(data).digest('hex');
  const chunks = Math.max(1, Math.ceil(data.length / CHUNK_BYTES));
  const clientMediaId = `${who.deviceId}-${Date.now()}`;
  const url = `${who.server.replace(/\/$/, '')}${UPLOAD_PATH}?f=json`;
  const request = (start: number, len: number): string =>
    JSON.stringify({
      UploadType: 2,
      BaseRequest: { Uin: who.session.uin, Sid: who.session.sid, Skey: who.session.skey, DeviceID: who.deviceId },
      ClientMediaId: clientMediaId,
      TotalLen: data.length,
      StartPos: start,
      DataLen: len,
      MediaType: 4,
      FromUserName: who.userName,
      ToUserName: to,
      FileMd5: md5,
    });
  let chunk = 0;
  for (let tries = 0; chunk < chunks; ) {
    const start = chunk * CHUNK_BYTES;
    const piece = data.subarray(start, Math.min(data.length, start + CHUNK_BYTES));
    const form = new FormData();
    form.append('id', 'WU_FILE_0');
    form.append('name', name);
    form.append('type', image ? 'image/*' : 'application/octet-stream');
    form.append('lastModifiedDate', new Date().toUTCString());
    form.append('size', String(data.length));
    if (chunks > 1) {
      form.append('chunks', String(chunks));
      form.append('chunk', String(chunk));
    }
    form.append('mediatype', image ? 'pic' : 'doc');
    form.append('uploadmediarequest', request(start, piece.length));
    form.append('filename', new Blob([piece]), name);
    let answer: { BaseResponse?: { Ret?: number; ErrMsg?: string }; MediaId?: string; StartPos?: number } | undefined;
    try {
      const r = await fetch(url, { method: 'POST', body: form });
      answer = (await r.json()) as typeof answer;
    } catch {
      answer = undefined;
    }
    const ret = answer?.BaseResponse?.Ret;
    if (ret === undefined) {
      if (++tries >= TRIES) throw new Error(`upload of ${name}: no answer after ${TRIES} tries`);
      await new Promise((r) => setTimeout(r, RETRY_DELAY_MS));
      continue;
    }
    if (ret !== 0) throw new Error(`upload of ${name} refused: Ret ${ret} ${answer?.BaseResponse?.ErrMsg ?? ''}`.trim());
    tries = 0;
    if (answer?.MediaId) return { mediaId: answer.MediaId, name, bytes: data.length, image };
    // Still missing bytes: go on from where the server says (a chunk it has is not sent again).
    const next = Math.floor((answer?.StartPos ?? start + piece.length) / CHUNK_BYTES);
    chunk = next > chunk ? next : chunk + 1;
  }
  throw new Error(`upload of ${name}: every chunk sent, but no MediaId came back`);
}

/** The appmsg XML of an attachment, as the web client writes it; names and the MediaId escaped. */
export function attachmentXml(f: UploadedFile): string {
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;');
  const ext = path.extname(f.name).slice(1);
  return (
    `<appmsg appid='wxeb7ec651dd0aefa9' sdkver=''><title>${esc(f.name)}</title><des></des><action></action><type>6</type>` +
    `<content></content><url></url><lowurl></lowurl><appattach><totallen>${f.bytes}</totallen><attachid>${esc(f.mediaId)}</attachid>` +
    `<fileext>${esc(ext)}</fileext></appattach><extinfo></extinfo></appmsg>`
  );
}
