// Every message's content carries its id and send time, so each recipient
// device measures send-to-delivery latency from the content alone.

/** `lt:<id>:<send time, ms>:` then padding. */
export function encodeContent(id: number, sentAtMs: number, bytes: number): string {
  const head = `lt:${id}:${sentAtMs.toFixed(3)}:`;
  return head.length >= bytes ? head : head + 'x'.repeat(bytes - head.length);
}

export function decodeContent(content: string): { id: number; sentAtMs: number } | undefined {
  const m = /^lt:(\d+):(\d+\.\d+):/.exec(content);
  return m ? { id: Number(m[1]), sentAtMs: Number(m[2]) } : undefined;
}
