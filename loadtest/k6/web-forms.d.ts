// Types of web-forms.js for the Node project (test/loadtest/k6-web-forms.test.ts),
// which does not read JavaScript.

export function xmlField(xml: string, name: string): string | undefined;

export function uploadFields(o: {
  base: { Uin: number; Sid: string; Skey: string; DeviceID: string };
  user: string;
  to: string;
  clientMediaId: string;
  name: string;
  md5: string;
  bytes: number;
  at: number;
}): Array<[string, string]>;

export function multipart(boundary: string, fields: Array<[string, string]>, fileName: string, bytes: Uint8Array): ArrayBuffer;
