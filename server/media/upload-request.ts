// The fields of a webwxuploadmedia form, checked and typed. The web client
// sends them all before the file part (FormData keeps insertion order and
// the client appends `filename` last), and the server needs them before it
// takes a byte of the file: the BaseRequest to authenticate the sender, and
// TotalLen, FileMd5 and the chunk's place to know where the bytes go. So the
// request is parsed when the file part starts; a field after it is too late.
//
// Where a chunk goes: with `chunks`/`chunk` (the web client's way for files
// over chunkBytes) chunk i holds bytes [i*chunkBytes, min((i+1)*chunkBytes,
// TotalLen)), and StartPos/DataLen are ignored because that client sends 0
// and the whole size in every chunk. Without them the part holds DataLen bytes
// from StartPos: a whole small file (0, TotalLen), or a client's own ranges.
import { MediaFailure, mediaFailure, mediaFault, type MediaFault } from './media-errors.ts';
import { isMediaType, type MediaType } from './media-id.ts';
import type { ChunkClaim } from './upload-assembler.ts';
import type { MediaLimits } from './media-limits.ts';

export interface UploadMediaRequest {
  /** `{Uin, Sid, Skey, DeviceID}`, authenticated by the caller, not here. */
  baseRequest: Record<string, unknown>;
  clientMediaId: string;
  totalLen: number;
  startPos: number;
  dataLen: number;
  fromUserName: string;
  toUserName: string;
  /** Lowercased. */
  fileMd5: string;
  mediaType: MediaType;
  /** The `name` field, else the file part's filename; checked by checkFileName. */
  name: string;
  /** Present for a chunked upload: chunk `index` of `count`. */
  chunk?: { index: number; count: number };
  dataTicket?: string;
  passTicket?: string;
}

const CLIENT_MEDIA_ID = /^[A-Za-z0-9_.:-]{1,64}$/;
const USER_NAME_MAX = 256;
const DECIMAL = /^(0|[1-9][0-9]{0,15})$/;

/**
 * A file name is shown to the recipient, who may save the file under it: a
 * path separator or `..` there is an attack on the recipient's disk, a NUL
 * truncates it in C APIs, control characters forge what the list shows. The
 * server itself never puts a client's name in a path (files are stored by hash).
 */
export function checkFileName(name: string, maxBytes: number): MediaFault | undefined {
  if (name.length === 0) return mediaFault('MEDIA_BAD_NAME', 'the file name is empty');
  if (Buffer.byteLength(name, 'utf8') > maxBytes) return mediaFault('MEDIA_BAD_NAME', `the file name is over ${maxBytes} bytes`);
  if (/[/\\]/.test(name)) return mediaFault('MEDIA_BAD_NAME', 'the file name holds a path separator');
  if (name.includes('\0')) return mediaFault('MEDIA_BAD_NAME', 'the file name holds a NUL');
  // eslint-disable-next-line no-control-regex
  if (/[\u0001-\u001f\u007f]/.test(name)) return mediaFault('MEDIA_BAD_NAME', 'the file name holds a control character');
  if (name === '.' || name === '..') return mediaFault('MEDIA_BAD_NAME', `the file name is ${name}`);
  if (/[\ud800-\udfff]/.test(name.replace(/[\ud800-\udbff][\udc00-\udfff]/g, ''))) {
    return mediaFault('MEDIA_BAD_NAME', 'the file name is not valid UTF-16');
  }
  return undefined;
}

/** Throws MediaFailure (MEDIA_NO_REQUEST, MEDIA_BAD_JSON, MEDIA_BAD_REQUEST, MEDIA_BAD_NAME). */
export function parseUploadRequest(fields: ReadonlyMap<string, string>, filename: string | undefined, limits: MediaLimits): UploadMediaRequest {
  const raw = fields.get('uploadmediarequest');
  if (raw === undefined) throw mediaFailure('MEDIA_NO_REQUEST', 'no uploadmediarequest field before the file');
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw mediaFailure('MEDIA_BAD_JSON', 'uploadmediarequest is not JSON');
  }
  if (!isObject(json)) throw mediaFailure('MEDIA_BAD_JSON', 'uploadmediarequest is not a JSON object');

  if (json.UploadType !== 2) throw bad('UploadType must be 2');
  if (json.MediaType !== 4) throw bad('MediaType must be 4');
  const baseRequest = json.BaseRequest;
  if (!isObject(baseRequest)) throw bad('BaseRequest must be an object');
  const clientMediaId = clientMediaIdOf(json.ClientMediaId);
  const totalLen = int(json.TotalLen, 'TotalLen', 1);
  const startPos = int(json.StartPos, 'StartPos', 0);
  const dataLen = int(json.DataLen, 'DataLen', 0);
  const fromUserName = userName(json.FromUserName, 'FromUserName');
  const toUserName = userName(json.ToUserName, 'ToUserName');
  if (typeof json.FileMd5 !== 'string' || !/^[0-9a-fA-F]{32}$/.test(json.FileMd5)) throw bad('FileMd5 must be 32 hex digits');
  const fileMd5 = json.FileMd5.toLowerCase();

  const mediatype = fields.get('mediatype');
  if (mediatype === undefined || !isMediaType(mediatype)) throw bad('mediatype must be pic, video or doc');
  const size = fields.get('size');
  if (size !== undefined && decimal(size, 'size') !== totalLen) throw bad(`size ${size} is not TotalLen ${totalLen}`);

  for (const n of [fields.get('name'), filename]) {
    if (n === undefined) continue;
    const f = checkFileName(n, limits.maxNameBytes);
    if (f) throw new MediaFailure(f);
  }
  const name = fields.get('name') ?? filename;
  if (name === undefined) throw mediaFailure('MEDIA_BAD_NAME', 'no name field and no filename');

  const req: UploadMediaRequest = { baseRequest, clientMediaId, totalLen, startPos, dataLen, fromUserName, toUserName, fileMd5, mediaType: mediatype, name };
  const chunks = fields.get('chunks');
  const chunk = fields.get('chunk');
  if ((chunks === undefined) !== (chunk === undefined)) throw bad('chunks and chunk come together');
  if (chunks !== undefined && chunk !== undefined) {
    const count = decimal(chunks, 'chunks');
    const want = Math.ceil(totalLen / limits.chunkBytes);
    if (count !== want) throw bad(`chunks ${count}: TotalLen ${totalLen} takes ${want} chunks of ${limits.chunkBytes} bytes`);
    req.chunk = { index: decimal(chunk, 'chunk'), count };
  }
  const dataTicket = fields.get('webwx_data_ticket');
  if (dataTicket !== undefined) req.dataTicket = dataTicket;
  const passTicket = fields.get('pass_ticket');
  if (passTicket !== undefined) req.passTicket = passTicket;
  return req;
}

/** Where this request's file part goes (the assembler checks it against TotalLen). */
export function chunkClaim(req: UploadMediaRequest, limits: MediaLimits): ChunkClaim {
  if (!req.chunk) return { offset: req.startPos, length: req.dataLen };
  const offset = req.chunk.index * limits.chunkBytes;
  // A chunk numbered past the end claims a whole chunk there, which the assembler refuses as beyond the end.
  const length = offset < req.totalLen ? Math.min(limits.chunkBytes, req.totalLen - offset) : limits.chunkBytes;
  return { offset, length };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function bad(detail: string) {
  return mediaFailure('MEDIA_BAD_REQUEST', detail);
}

function int(v: unknown, name: string, min: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw bad(`${name} must be an integer of at least ${min}`);
  return v;
}

function decimal(s: string, name: string): number {
  if (!DECIMAL.test(s)) throw bad(`${name} must be a decimal integer`);
  return Number(s);
}

/** The web client sends a number (a timestamp); others send a string. Either becomes a string. */
function clientMediaIdOf(v: unknown): string {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return String(v);
  if (typeof v === 'string' && CLIENT_MEDIA_ID.test(v)) return v;
  throw bad('ClientMediaId must be a non-negative integer or 1 to 64 of [A-Za-z0-9_.:-]');
}

function userName(v: unknown, name: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > USER_NAME_MAX) throw bad(`${name} must be a user name`);
  return v;
}
