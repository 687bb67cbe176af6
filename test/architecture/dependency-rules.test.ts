// The layout's import rules (.dependency-cruiser.cjs) run on the real tree, and on a
// small planted tree with one bad import per rule: a rule that cannot fail is no rule.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise, type ICruiseResult, type IReporterOutput } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SOURCE_DIRS = ['server', 'client', 'sim', 'scenarios', 'loadtest', 'chaos', 'test'];
const PLANTED_DIRS = SOURCE_DIRS;

interface Broken {
  rule: string;
  from: string;
  to: string;
}

/** Cruises `dirs` under `baseDir` with the project's rule set; returns every rule broken. */
async function brokenRules(baseDir: string, dirs: string[]): Promise<Broken[]> {
  const options = await extractDepcruiseOptions(path.join(ROOT, '.dependency-cruiser.cjs'));
  const tsConfig = extractTSConfig(path.join(ROOT, 'tsconfig.json'));
  const cwd = process.cwd();
  // dependency-cruiser reads rule paths relative to the working directory.
  process.chdir(baseDir);
  let out: IReporterOutput;
  try {
    out = await cruise(dirs, { ...options, validate: true, outputType: 'json' }, {}, { tsConfig });
  } finally {
    process.chdir(cwd);
  }
  const result = (typeof out.output === 'string' ? JSON.parse(out.output) : out.output) as ICruiseResult;
  return (result.summary.violations ?? []).map((v) => ({ rule: v.rule.name, from: v.from, to: v.to }));
}

describe('dependency rules', () => {
  it('hold on the whole tree', async () => {
    const broken = await brokenRules(ROOT, SOURCE_DIRS);
    expect(broken.map((b) => `${b.rule}: ${b.from} -> ${b.to}`)).toEqual([]);
  }, 120_000);

  describe('catch a planted bad import', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deps-planted-'));
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
    const write = (file: string, text: string): void => {
      fs.mkdirSync(path.join(dir, path.dirname(file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), text);
    };
    // A little tree shaped like the project's, clean but for the one import each case adds.
    const base: Record<string, string> = {
      'server/core/commands.ts': "export const core = 1;\n",
      'server/core/password.ts': "import { scryptSync } from 'node:crypto';\nexport const hash = scryptSync;\n",
      'server/node/server-node.ts': "import { core } from '../core/commands.ts';\nexport const node = core;\n",
      'server/store/store.ts': "export const store = 1;\n",
      'server/transport/tcp.ts': "import { node } from '../node/server-node.ts';\nexport const tcp = node;\n",
      'client/core/client-core.ts': "export const client = 1;\n",
      'client/net/net-client.ts': "import { client } from '../core/client-core.ts';\nexport const net = client;\n",
      'sim/rng.ts': "export const rng = 1;\n",
      'client/net/timers.ts': "export const timers = 1;\n",
      'server/node/node-config.ts': "export const nodeConfig = 1;\n",
      'loadtest/report.ts': "export const report = 1;\n",
      'sim/world.ts': "import { node } from '../server/node/server-node.ts';\nexport const world = node;\n",
      'scenarios/calm.ts': "export const calm = 1;\n",
      'loadtest/driver.ts': "import { tcp } from '../server/transport/tcp.ts';\nexport const driver = tcp;\n",
      'test/helper.ts': "export const helper = 1;\n",
      'sim/checkers.ts': "export const checkers = 1;\n",
      'chaos/judge.ts': "import { checkers } from '../sim/checkers.ts';\nexport const judge = checkers;\n",
      'sim/picture/picture-html.ts': "export const pictureHtml = 1;\n",
      'sim/picture/picture-recorder.ts': "export const recorder = 1;\n",
      'chaos/picture-file.ts': "import { pictureHtml } from '../sim/picture/picture-html.ts';\nexport const picture = pictureHtml;\n",
      // The resolver reads the tsconfig of the tree it cruises.
      'tsconfig.json': fs.readFileSync(path.join(ROOT, 'tsconfig.json'), 'utf8'),
    };
    const cases: Array<{ rule: string; file: string; line: string }> = [
      { rule: 'core-sans-io', file: 'server/core/commands.ts', line: "import fs from 'node:fs';\nexport const f = fs;\n" },
      { rule: 'core-sans-io', file: 'client/core/client-core.ts', line: "import net from 'node:net';\nexport const n = net;\n" },
      { rule: 'core-imports-inward', file: 'server/core/commands.ts', line: "export { rng } from '../../sim/rng.ts';\n" },
      { rule: 'core-imports-inward', file: 'client/core/client-core.ts', line: "export { timers } from '../net/timers.ts';\n" },
      { rule: 'protocol-core-below-node', file: 'server/core/commands.ts', line: "export { nodeConfig } from '../node/node-config.ts';\n" },
      { rule: 'store-below-transports', file: 'server/store/store.ts', line: "export { tcp } from '../transport/tcp.ts';\n" },
      { rule: 'sim-drives-cores-not-transports', file: 'sim/world.ts', line: "export { tcp } from '../server/transport/tcp.ts';\n" },
      { rule: 'scenarios-are-data', file: 'scenarios/calm.ts', line: "export { world } from '../sim/world.ts';\n" },
      { rule: 'nothing-imports-loadtest', file: 'server/transport/tcp.ts', line: "export { report } from '../../loadtest/report.ts';\n" },
      { rule: 'nothing-imports-tests', file: 'server/transport/tcp.ts', line: "export { helper } from '../../test/helper.ts';\n" },
      { rule: 'no-circular', file: 'test/helper.ts', line: "import { other } from './other.ts';\nexport const again = other;\n" },
      { rule: 'not-to-unresolvable', file: 'sim/world.ts', line: "export { gone } from './gone.ts';\n" },
      { rule: 'nothing-imports-chaos', file: 'loadtest/report.ts', line: "export { judge } from '../chaos/judge.ts';\n" },
      { rule: 'chaos-judges-with-the-checkers', file: 'chaos/judge.ts', line: "export { world } from '../sim/world.ts';\n" },
      { rule: 'chaos-judges-with-the-checkers', file: 'chaos/picture-file.ts', line: "export { recorder } from '../sim/picture/picture-recorder.ts';\n" },
    ];

    it('the planted tree is clean without them', async () => {
      for (const [file, text] of Object.entries(base)) write(file, text);
      expect(await brokenRules(dir, PLANTED_DIRS)).toEqual([]);
    }, 60_000);

    for (const c of cases) {
      it(`${c.rule}: ${c.file}`, async () => {
        fs.rmSync(dir, { recursive: true, force: true });
        for (const [file, text] of Object.entries(base)) write(file, text);
        write(c.file, base[c.file] + c.line);
        if (c.rule === 'no-circular') write('test/other.ts', "import { helper } from './helper.ts';\nexport const other = helper;\n");
        const broken = await brokenRules(dir, PLANTED_DIRS);
        expect(broken.map((b) => b.rule)).toContain(c.rule);
        expect(broken.every((b) => b.rule === c.rule), JSON.stringify(broken)).toBe(true);
      }, 60_000);
    }
  });
});
