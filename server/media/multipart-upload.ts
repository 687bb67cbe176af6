// Reads a webwxuploadmedia request: multipart/form-data parsed by busboy
// (never by hand), fields first, then the one file part, which is handed to
// `onFile` as a stream while it is still arriving: the caller writes it to
// disk piece by piece (chunk-writer.ts), and busboy waits for it (its file
// stream applies backpressure to the request), so memory stays at a few
// pieces whatever the file's size.
//
// The promise resolves only once the whole form was read (a body cut short
// after the file part still fails), so the caller counts the chunk only then.
// It rejects at the first fault, without reading on: the request body may be
// partly unread, so the HTTP layer answers and closes the connection (a
// keep-alive connection cannot go on).
//
// Busboy quirks handled here: it flags a value or file of exactly its size
// limit as truncated, so the limits given are one over ours; it strips paths
// from file names unless preservePath is set, which would hide the separators
// we must refuse; it decodes header parameters as latin1 unless told utf8.
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import busboy from 'busboy';
import { isMediaFailure, mediaFailure, type MediaFailure } from './media-errors.ts';
import type { MediaLimits } from './media-limits.ts';
import { parseUploadRequest, type UploadMediaRequest } from './upload-request.ts';

export interface UploadForm {
  request: UploadMediaRequest;
  /** Every field before the file part, by name (each name once). */
  fields: ReadonlyMap<string, string>;
}

/** The name of the file part in the web client's form. */
export const FILE_FIELD = 'filename';
/** Header lines of one part: Content-Disposition and Content-Type, with room to spare. */
const MAX_PART_HEADERS = 8;

/**
 * Parse the form; call `onFile` with the fields and the file part's stream
 * when the file part starts (it must consume the stream); resolve with its
 * result once the form was read to its end. Rejects with a MediaFailure, or
 * with onFile's own error if that is not one.
 */
export function readUploadForm<T>(
  headers: IncomingHttpHeaders,
  body: Readable,
  limits: MediaLimits,
  onFile: (form: UploadForm, file: Readable) => Promise<T>,
): Promise<{ form: UploadForm; result: T }> {
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({
        headers,
        preservePath: true,
        defParamCharset: 'utf8',
        limits: {
          fields: limits.maxFields,
          fieldSize: limits.maxFieldBytes + 1,
          files: 1,
          fileSize: limits.chunkBytes + 1,
          parts: limits.maxFields + 1,
          headerPairs: MAX_PART_HEADERS,
        },
      });
    } catch {
      reject(mediaFailure('MEDIA_NOT_MULTIPART', 'the body must be multipart/form-data with a boundary'));
      return;
    }

    const fields = new Map<string, string>();
    let form: UploadForm | undefined;
    let task: Promise<T> | undefined;
    let settled = false;
    let overLimit = false;
    let ended = false;

    const fail = (e: unknown): void => {
      if (settled) return;
      settled = true;
      body.unpipe(bb);
      // Destroying busboy destroys the file stream too, ending onFile's reading.
      // Not from inside its own event handlers: busboy 1.6 goes on using its
      // state after emitting (the file stream, after 'limit'), which a destroy nulls.
      process.nextTick(() => {
        if (!bb.destroyed) bb.destroy();
      });
      reject(e);
    };

    bb.on('field', (name, value, info) => {
      if (settled) return;
      if (form) return fail(mediaFailure('MEDIA_BAD_REQUEST', `field ${name} comes after the file`));
      if (info.nameTruncated || info.valueTruncated) return fail(mediaFailure('MEDIA_FIELD_TOO_LARGE', `field ${name} is over ${limits.maxFieldBytes} bytes`));
      if (fields.has(name)) return fail(mediaFailure('MEDIA_FIELD_REPEATED', `field ${name} is given twice`));
      fields.set(name, value);
    });

    bb.on('file', (name, file, info) => {
      if (settled) return discardFile(file);
      if (name !== FILE_FIELD) {
        discardFile(file);
        return fail(mediaFailure('MEDIA_BAD_REQUEST', `the file part is named ${JSON.stringify(name)}, not ${FILE_FIELD}`));
      }
      try {
        form = { request: parseUploadRequest(fields, info.filename, limits), fields };
      } catch (e) {
        discardFile(file);
        return fail(e);
      }
      // Its errors reach us as busboy's own; the consumer hears them by reading.
      file.on('error', () => undefined);
      // Busboy skips the rest of the part past the limit; judged once the form is read.
      file.on('limit', () => (overLimit = true));
      task = onFile(form, file);
      task.catch((e: unknown) => fail(fromParser(e) ?? e));
    });

    bb.on('fieldsLimit', () => fail(mediaFailure('MEDIA_TOO_MANY_PARTS', `more than ${limits.maxFields} fields`)));
    bb.on('filesLimit', () => fail(mediaFailure('MEDIA_TOO_MANY_PARTS', 'more than one file part')));
    bb.on('error', (e: unknown) => fail(fromParser(e) ?? mediaFailure('MEDIA_MALFORMED', String((e as Error)?.message ?? e))));
    bb.on('close', () => {
      if (settled) return;
      if (!form || !task) return fail(mediaFailure('MEDIA_NO_FILE', `no file part named ${FILE_FIELD}`));
      if (overLimit) return fail(mediaFailure('MEDIA_CHUNK_TOO_LARGE', `the file part is over ${limits.chunkBytes} bytes`));
      const f = form;
      task.then(
        (result) => {
          if (settled) return;
          settled = true;
          resolve({ form: f, result });
        },
        (e: unknown) => fail(fromParser(e) ?? e),
      );
    });

    // A connection that closes or errs mid-body never ends the stream: without this, busboy would wait forever.
    body.on('end', () => (ended = true));
    body.on('error', () => bb.destroy(cutShort('the connection failed mid-body')));
    body.on('close', () => {
      if (!ended && !bb.destroyed) bb.destroy(cutShort('the connection closed mid-body'));
    });
    body.pipe(bb);
  });
}

/** A file part nobody will read: busboy destroys it with an error when the form fails, which must not go unheard. */
function discardFile(file: Readable): void {
  file.on('error', () => undefined);
  file.resume();
}

function cutShort(detail: string): MediaFailure {
  return mediaFailure('MEDIA_BODY_CUT_SHORT', detail);
}

/** Busboy's own errors, by their messages (it has no codes), as our codes. */
function fromParser(e: unknown): MediaFailure | undefined {
  if (isMediaFailure(e)) return e;
  const msg = e instanceof Error ? e.message : '';
  if (msg === 'Unexpected end of form' || msg === 'Unexpected end of file') return cutShort('the body ended before the form did');
  if (msg === 'Malformed part header' || msg.startsWith('Malformed')) return mediaFailure('MEDIA_MALFORMED', msg);
  return undefined;
}
