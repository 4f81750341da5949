/**
 * The report in a real browser: headless Chromium (Debian's, driven by playwright-core)
 * opens index.html from disk, every chart must draw marks, the page must make no network
 * request and log no error, and a hostile workload name must show up as text.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Progress } from '../bench/progress.js';
import { defaultOptions, runSuite } from '../bench/suite.js';
import { renderHtml } from '../src/report/html.js';
import { reportSections } from '../src/report/sections.js';
import { resultsCsv } from '../src/report/results.js';
import { writeReport } from '../src/report/write.js';
import { browserTestMode, type DomElement } from './helpers/browser.js';
import { tempDir } from './helpers/temp.js';

/** Debian's chromium (what .ci/run installs); FPSWITCH_CHROMIUM names another binary. */
const CHROMIUM = process.env.FPSWITCH_CHROMIUM ?? '/usr/bin/chromium';
const HOSTILE = '<img src=x onerror=alert(1)>';
const HOSTILE_DESCRIPTION = '<script>alert(2)</script> & "quotes"';
const HOSTILE_FILE = '<marquee>hostile.json'; // a file name cannot hold a '/'
const haveBrowser = existsSync(CHROMIUM);
const OPEN_DETAILS = "document.querySelectorAll('details').forEach((d) => { d.open = true; })";
const CLOSE_DETAILS = "document.querySelectorAll('details').forEach((d) => { d.open = false; })";
/**
 * In the page: every visible text of every chart's SVG that is cut (an ellipsis), pokes
 * out of the SVG's box, or overlaps another text by more than 2 px. Each text is the
 * quadrilateral of its SVG box under its screen transform (rotated axis labels included),
 * and two quadrilaterals overlap when every separating axis shows overlap (SAT).
 */
const TEXT_PROBLEMS = `(() => {
  const quad = (t) => {
    const b = t.getBBox(), m = t.getScreenCTM();
    return [[b.x, b.y], [b.x + b.width, b.y], [b.x + b.width, b.y + b.height], [b.x, b.y + b.height]]
      .map(([x, y]) => [m.a * x + m.c * y + m.e, m.b * x + m.d * y + m.f]);
  };
  const overlap = (p, q) => {
    let least = Infinity;
    for (const poly of [p, q])
      for (let i = 0; i < 4; i++) {
        const [x1, y1] = poly[i], [x2, y2] = poly[(i + 1) % 4];
        const len = Math.hypot(x2 - x1, y2 - y1) || 1;
        const nx = (y1 - y2) / len, ny = (x2 - x1) / len;
        const pr = (r) => r.map(([x, y]) => x * nx + y * ny);
        const a = pr(p), b = pr(q);
        least = Math.min(least, Math.min(Math.max(...a), Math.max(...b)) - Math.max(Math.min(...a), Math.min(...b)));
      }
    return least;
  };
  return [...document.querySelectorAll('.vis')].flatMap((vis) => {
    const id = vis.getAttribute('data-chart') || '?';
    const svg = vis.querySelector('svg');
    if (!svg) return [id + ': no svg'];
    const frame = svg.getBoundingClientRect();
    const visible = (t) => {
      for (let e = t; e && e !== svg; e = e.parentElement) {
        const st = getComputedStyle(e);
        if (st.display === 'none' || st.visibility === 'hidden' || Number(st.opacity) === 0) return false;
        if (e.getAttribute('opacity') === '0') return false;
      }
      return (t.textContent || '').trim() !== '';
    };
    const texts = [...svg.querySelectorAll('text')].filter(visible)
      .map((t) => ({ text: t.textContent || '', q: quad(t) }));
    const out = [];
    for (const t of texts) {
      if (t.text.endsWith('\\u2026')) out.push(id + ': "' + t.text + '" is cut');
      if (t.q.some(([x, y]) => x < frame.left - 1 || x > frame.right + 1 || y < frame.top - 1 || y > frame.bottom + 1))
        out.push(id + ': "' + t.text + '" is clipped by the chart edge');
    }
    for (let i = 0; i < texts.length; i++)
      for (let j = i + 1; j < texts.length; j++)
        if (overlap(texts[i].q, texts[j].q) > 2)
          out.push(id + ': "' + texts[i].text + '" overlaps "' + texts[j].text + '"');
    return out;
  });
})()`;
const mode = browserTestMode(haveBrowser, process.env);

describe('whether the browser test runs', () => {
  it('runs with Chromium; without it, skips locally and fails under CI', () => {
    expect(browserTestMode(true, { CI: 'true' })).toBe('run');
    expect(browserTestMode(true, {})).toBe('run');
    expect(browserTestMode(false, {})).toBe('skip');
    expect(browserTestMode(false, { CI: 'false' })).toBe('skip');
    expect(browserTestMode(false, { CI: 'true' })).toBe('fail');
    expect(browserTestMode(false, { CI: '1' })).toBe('fail');
  });
  it.runIf(mode === 'fail')('Chromium is installed (CI=true)', () => {
    expect(haveBrowser, `${CHROMIUM} is missing: .ci/run installs Debian's chromium`).toBe(true);
  });
});

type Page = Awaited<ReturnType<Browser['newPage']>>;

describe.skipIf(mode !== 'run')('report in headless Chromium', () => {
  let browser: Browser | undefined;
  let opened: Page | undefined;
  /** The page beforeAll opened; a test fails on this line when it could not be opened. */
  function thePage(): Page {
    if (opened === undefined) throw new Error('the report page was not opened');
    return opened;
  }
  const requests: string[] = [];
  const errors: string[] = [];
  const dialogs: string[] = [];
  let reportDir = '';

  beforeAll(async () => {
    // A suite over the built-in workloads plus one with a hostile name, at tiny sizes.
    const workloads = tempDir('fpswitch-wl-');
    const builtins = resolve(__dirname, '../workloads');
    for (const f of readdirSync(builtins).filter((f) => f.endsWith('.json')))
      copyFileSync(join(builtins, f), join(workloads, f));
    writeFileSync(
      join(workloads, HOSTILE_FILE),
      JSON.stringify({
        name: HOSTILE,
        kind: 'markov',
        description: HOSTILE_DESCRIPTION,
        fpProbability: 0.3,
      }),
    );
    const d = defaultOptions(true);
    const results = await runSuite(
      {
        ...d,
        runs: 3000,
        seeds: 2,
        workers: 2,
        only: null,
        workloadsDir: workloads,
        tuneRuns: 2000,
        thresholds: [1, 2, 4],
        eagerRuns: [4, 16],
        extras: { groundTruth: true },
      },
      new Progress(process.stderr, true),
    );
    const root = tempDir('fpswitch-report-');
    const extras = reportSections(results);
    reportDir = writeReport(root, {
      'results.json': JSON.stringify(results),
      'results.csv': resultsCsv(results),
      'index.html': renderHtml(results, extras),
    });

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    opened = page;
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(pathToFileURL(join(reportDir, 'index.html')).href);
    await page.waitForSelector('body[data-charts-done="1"]', { timeout: 60_000 });
  }, 240_000);

  afterAll(async () => {
    if (opened) {
      const shots = resolve(__dirname, '../reports/browser-test');
      mkdirSync(shots, { recursive: true });
      await opened.screenshot({ path: join(shots, 'report.png'), fullPage: true });
    }
    await browser?.close();
  });

  it('renders every chart with marks', async () => {
    const page = thePage();
    const charts = await page.$$eval('.vis', (els: DomElement[]) =>
      els.map((el) => ({
        id: el.getAttribute('data-chart'),
        rendered: el.getAttribute('data-rendered'),
        error: el.getAttribute('data-error'),
        marks: el.querySelectorAll(
          'svg g.role-mark > path, svg g.role-mark > line, svg g.role-mark > rect, svg g.role-mark > g',
        ).length,
      })),
    );
    expect(charts.map((c) => c.id)).toEqual(
      expect.arrayContaining([
        'claim',
        'components',
        'skip-traps',
        'sweep',
        'breakeven',
        'sensitivity-0',
        'ground-truth-skip',
        'ground-truth-traps',
        'cost-model',
        'tornado',
        'throughput',
      ]),
    );
    for (const c of charts) {
      expect(c.error, `chart ${c.id}`).toBeNull();
      expect(c.rendered, `chart ${c.id}`).toBe('1');
      expect(c.marks, `chart ${c.id} drew no marks`).toBeGreaterThan(0);
    }
  });

  it('answers on the first screen, in a page at most 8,000 px tall', async () => {
    const page = thePage();
    // Details (long tables, counterexamples, more charts) collapsed: the default page.
    const height = await page.evaluate<number>('document.documentElement.scrollHeight');
    expect(height).toBeLessThanOrEqual(8000);
    const bottoms = await page.evaluate<number[]>(
      `['#verdict', '#recommendations', '#tally'].map((sel) => {
        const el = document.querySelector(sel);
        return el ? el.getBoundingClientRect().bottom + window.scrollY : Infinity;
      })`,
    );
    for (const b of bottoms) expect(b).toBeLessThanOrEqual(1000);
    const summary = await page.innerText('#summary');
    expect(summary).toMatch(/Recommended design per workload and CPU/);
    expect(summary).toMatch(/clean at a fixpoint/);
    expect(summary).toMatch(/lazy-notafix: guest-undef in \d+ events/);
    // Every workload x CPU has a recommendation.
    const cells = await page.$$eval(
      '#recommendations tbody td:not(:first-child)',
      (els: DomElement[]) => els.map((e) => e.textContent ?? ''),
    );
    expect(cells.length).toBeGreaterThan(0);
    for (const c of cells) expect(c).toMatch(/cyc\/exit/);
    // A long table is collapsed with its row count, and its filter box hides rows.
    const label = await page.innerText('#assumptions summary');
    expect(label).toMatch(/Assumptions \(\d{2,}(,\d{3})* rows\)/);
    await page.click('#assumptions summary');
    await page.fill('#assumptions input[type=search]', 'xgene');
    const shown = await page.$$eval(
      '#assumptions tbody tr',
      (rows: DomElement[]) =>
        rows.filter((r) => r.getAttribute('style') !== 'display: none;').length,
    );
    const total = await page.$$eval('#assumptions tbody tr', (rows) => rows.length);
    expect(shown).toBeGreaterThan(0);
    expect(shown).toBeLessThan(total);
    await page.fill('#assumptions input[type=search]', '');
    await page.click('#assumptions summary');
  });

  it('draws no overlapping or clipped text in any chart', async () => {
    const page = thePage();
    await page.evaluate(OPEN_DETAILS);
    const problems = await page.evaluate<string[]>(TEXT_PROBLEMS);
    expect(problems).toEqual([]);
    await page.evaluate(CLOSE_DETAILS);
  });

  it('makes no network request and logs no error', () => {
    const remote = requests.filter(
      (u) => !u.startsWith('file:') && !u.startsWith('data:') && !u.startsWith('blob:'),
    );
    expect(remote).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('shows a hostile workload name as text, running nothing', async () => {
    const page = thePage();
    expect(dialogs).toEqual([]);
    expect(await page.$$eval('img', (els) => els.length)).toBe(0);
    // The workloads table is collapsed by default: open every block to read it.
    await page.evaluate(OPEN_DETAILS);
    const text = await page.innerText('body');
    expect(text).toContain(HOSTILE);
    // Its description and file name, in the workloads table, as text.
    expect(text).toContain(HOSTILE_DESCRIPTION);
    expect(text).toContain(HOSTILE_FILE);
    expect(await page.$$eval('marquee', (els) => els.length)).toBe(0);
    // In the SVG charts too (vega writes text nodes).
    const svgText = await page.$$eval('svg text', (els: DomElement[]) =>
      els.map((e) => e.textContent ?? '').join('\n'),
    );
    expect(svgText).toContain(HOSTILE);
  });

  it('shows the sections a reader needs', async () => {
    const page = thePage();
    const text = await page.innerText('body');
    for (const h of [
      'The 30-50% claim',
      'Designs across workloads and CPUs',
      'Tuning the adaptive threshold',
      'Break-even',
      'Sensitivity',
      'Ground truth',
      'Correctness',
      'Calibration',
      'Assumptions',
      'Throughput',
    ]) {
      expect(text).toContain(h);
    }
    // Counterexamples are readable on the page.
    expect(text).toMatch(/lazy-notafix.*guest-undef/);
  });
});
