// @ts-check
// The web flow's request bodies and answers, for loadtest/k6/web-login.js:
// plain JavaScript that imports nothing from k6, so that the Node tests
// (test/loadtest/k6-web-forms.test.ts) post the very bodies the script
// builds to the real server.

/**
 * The value of `<name>…</name>` in webwxnewloginpage's XML.
 * @param {string} xml
 * @param {string} name
 * @returns {string | undefined}
 */
export function xmlField(xml, name) {
  const m = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml);
  return m ? m[1] : undefined;
}

/**
 * The fields of a one-piece upload, in the order the web client's FormData
 * sends them (the file part comes after them).
 * @param {{ base: { Uin: number, Sid: string, Skey: string, DeviceID: string }, user: string, to: string, clientMediaId: string, name: string, md5: string, bytes: number, at: number }} o
 * @returns {Array<[string, string]>}
 */
export function uploadFields(o) {
  const request = {
    UploadType: 2,
    BaseRequest: o.base,
    ClientMediaId: o.clientMediaId,
    TotalLen: o.bytes,
    StartPos: 0,
    DataLen: o.bytes,
    MediaType: 4,
    FromUserName: o.user,
    ToUserName: o.to,
    FileMd5: o.md5,
  };
  return [
    ['id', 'WU_FILE_0'],
    ['name', o.name],
    ['type', 'image/png'],
    ['lastModifiedDate', new Date(o.at).toUTCString()],
    ['size', String(o.bytes)],
    ['mediatype', 'pic'],
    ['uploadmediarequest', JSON.stringify(request)],
  ];
}

/**
 * A multipart/form-data body: the fields in order, then the file part `filename`.
 * Field names, values and the file name must be ASCII (one byte a character).
 * @param {string} boundary
 * @param {Array<[string, string]>} fields
 * @param {string} fileName
 * @param {Uint8Array} bytes
 * @returns {ArrayBuffer}
 */
export function multipart(boundary, fields, fileName, bytes) {
  let head = '';
  for (const [k, v] of fields) head += `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`;
  head += `--${boundary}\r\nContent-Disposition: form-data; name="filename"; filename="${fileName}"\r\nContent-Type: application/octet-stream\r\n\r\n`;
  const tail = `\r\n--${boundary}--\r\n`;
  const out = new Uint8Array(head.length + bytes.length + tail.length);
  for (let i = 0; i < head.length; i++) out[i] = head.charCodeAt(i) & 0xff;
  out.set(bytes, head.length);
  for (let i = 0; i < tail.length; i++) out[head.length + bytes.length + i] = tail.charCodeAt(i) & 0xff;
  return out.buffer;
}
