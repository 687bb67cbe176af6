// The picture of a run: recording for it leaves the run (and its trace hash)
// exactly as it is, every message becomes an arrow between the right lanes,
// a failing run carries its violation, a long run is capped with a note, and
// the file needs nothing from outside.
import { describe, expect, it } from 'vitest';
import { scenarioByName } from '../../scenarios/index.ts';
import { pictureFileBeside, pictureOfScenario } from '../../sim/picture/record-picture.ts';
import { SERVER_LANE } from '../../sim/picture/run-picture.ts';
import { runScenario } from '../../sim/run.ts';

const meta = { title: 't', replay: 'npm run sim -- r' };

describe('run picture', () => {
  it('leaves the trace hash of a run as it is (golden: calm seed 1, flaky-wifi seed 7)', () => {
    expect(pictureOfScenario(scenarioByName('calm'), '1', {}, meta).result.traceHash).toBe('c5433da36d98e746');
    expect(pictureOfScenario(scenarioByName('flaky-wifi'), '7', {}, meta).result.traceHash).toBe('2b30179dc1d41db0');
  });

  it('draws every message of a short run between the server and a device, in time order', () => {
    const { result, picture } = pictureOfScenario(scenarioByName('flaky-wifi'), '7', {}, meta);
    expect(result.ok).toBe(true);
    expect(picture.lanes[0]).toBe(SERVER_LANE);
    expect(picture.lanes.length).toBeGreaterThan(2);
    expect(picture.arrows.length).toBeGreaterThan(1000);
    expect(picture.omitted).toBe('');
    expect(picture.violation).toBeUndefined();
    for (const a of picture.arrows) {
      expect([a.from, a.to]).toContain(SERVER_LANE);
      expect(picture.lanes).toContain(a.from === SERVER_LANE ? a.to : a.from);
      expect(a.atMs).toBeGreaterThanOrEqual(a.sentMs);
      // Arrives in a later event than the one that sent it (a lost one too; a dropped one never arrives).
      if (a.fate === 'arrived' || a.fate === 'lost') expect(a.event!).toBeGreaterThan(a.sentEvent);
      else expect(a.event).toBeUndefined();
    }
    const fates = new Set(picture.arrows.map((a) => a.fate));
    // flaky-wifi drops datagrams and cuts streams: both kinds of loss show.
    expect(fates).toContain('dropped');
    expect(fates).toContain('lost');
    expect(picture.marks.some((m) => m.cls === 'key' && /^\d+_\d+/.test(m.label))).toBe(true);
  });

  it('marks the violation of a failing run, and the message whose arrival broke it', () => {
    const { result, picture, html } = pictureOfScenario(scenarioByName('flaky-wifi'), '2', { bugs: new Set(['skip-dedup']) }, meta);
    expect(result.ok).toBe(false);
    const v = picture.violation!;
    expect(v).toMatchObject({ guarantee: result.failure!.guarantee, who: result.failure!.who, event: result.failure!.event });
    expect(picture.lanes).toContain(v.lane);
    expect(picture.arrows.filter((a) => a.event === v.event).length).toBeGreaterThan(0);
    expect(html).toContain(`${v.guarantee} violated at ${v.who}`);
    expect(html).toContain('npm run sim -- r');
  });

  it('caps a long run at the arrows nearest its violation, and says what it left out', () => {
    const full = pictureOfScenario(scenarioByName('flaky-wifi'), '2', { bugs: new Set(['skip-dedup']) }, meta).picture;
    const { picture } = pictureOfScenario(scenarioByName('flaky-wifi'), '2', { bugs: new Set(['skip-dedup']) }, { ...meta, maxArrows: 100 });
    expect(picture.arrows.length).toBe(100);
    expect(picture.omitted).toMatch(/^100 of \d+ messages drawn/);
    const last = full.arrows.map((a) => a.sentMs).sort((a, b) => a - b);
    expect(Math.min(...picture.arrows.map((a) => a.sentMs))).toBe(last[last.length - 100]);
    expect(Object.keys(picture.keysBefore).length).toBeGreaterThan(0);
  });

  it('caps a long passing run at its start and its end', () => {
    const { picture, html } = pictureOfScenario(scenarioByName('calm'), '1', {}, { ...meta, maxArrows: 200 });
    expect(picture.arrows.length).toBe(200);
    expect(picture.gapAfterMs).toBeDefined();
    expect(picture.omitted).toMatch(/^200 of \d+ messages drawn: those sent up to/);
    expect(html.length).toBeLessThan(200_000);
  });

  it('is one file that loads nothing from outside', () => {
    const { html } = pictureOfScenario(scenarioByName('calm'), '1', {}, meta);
    expect(html).not.toMatch(/<(link|img|iframe)\b|<script[^>]*\bsrc=|@import|url\((?!#)/i);
    // The only address in it is the SVG namespace the script creates elements in.
    expect([...html.matchAll(/https?:\/\/[^\s'"<)]+/g)].map((m) => m[0])).toEqual(['http://www.w3.org/2000/svg']);
    // A run's size stays in the hundreds of KB, well under a few MB.
    expect(html.length).toBeLessThan(3_000_000);
  });

  it('names the picture beside a replay file', () => {
    expect(pictureFileBeside('.sim/failures/spec-x.json')).toBe('.sim/failures/spec-x.html');
  });

  it('runs the same world a plain run does', () => {
    const plain = runScenario(scenarioByName('flaky-wifi'), '2', { bugs: new Set(['skip-dedup']) });
    const drawn = pictureOfScenario(scenarioByName('flaky-wifi'), '2', { bugs: new Set(['skip-dedup']) }, meta).result;
    expect({ events: drawn.events, hash: drawn.traceHash, failure: drawn.failure }).toEqual({ events: plain.events, hash: plain.traceHash, failure: plain.failure });
  });
});
