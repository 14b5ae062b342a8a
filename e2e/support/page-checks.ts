import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { AxeResults } from 'axe-core';
import type { Page } from 'puppeteer-core';

// axe-core is injected into the page directly: @axe-core/puppeteer would do the same, but it
// needs the full `puppeteer` package as a peer, whose install downloads a browser (we drive
// Debian's Chromium and Firefox through puppeteer-core; docs/development.md).
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's WCAG 2.x A/AA rules and best practices over the whole page. */
async function axe(page: Page): Promise<AxeResults> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE_SOURCE);
  return page.evaluate(() => (window as unknown as { axe: { run: () => Promise<AxeResults> } }).axe.run()) as Promise<AxeResults>;
}

/**
 * What must hold on a page as it is now (issue 13): the document no wider than its viewport, no
 * control off-screen, axe-core finding nothing serious or critical. Returns the problems in words.
 */
export async function pageProblems(page: Page, where: string): Promise<string[]> {
  const problems: string[] = [];
  const { documentWidth, viewport, offscreen } = await page.evaluate(() => {
    const viewportWidth = document.documentElement.clientWidth;
    const out = Array.from(document.querySelectorAll('button, a, input, select, textarea'))
      .filter((element) => {
        const box = element.getBoundingClientRect();
        return box.width > 0 && (box.right > viewportWidth + 1 || box.left < -1);
      })
      .map((element) => element.outerHTML.slice(0, 80));
    return { documentWidth: document.documentElement.scrollWidth, viewport: viewportWidth, offscreen: out };
  });
  if (documentWidth > viewport) problems.push(`${where}: the document is ${documentWidth} px wide in a ${viewport} px viewport`);
  for (const element of offscreen) problems.push(`${where}: off-screen ${element}`);
  const results = await axe(page);
  if (results.passes.length === 0) problems.push(`${where}: axe checked nothing`);
  for (const violation of results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')) {
    problems.push(
      `${where}: axe ${violation.id} (${violation.impact}): ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`,
    );
  }
  return problems;
}

const WIDTHS = [1280, 390] as const;
const SCHEMES = ['light', 'dark'] as const;

/**
 * The page as it is now at 1,280 and 390 px, light and dark (Chromium emulation): the problems
 * of pageProblems for each, and a screenshot of each in `<artifacts>/screenshots/`.
 */
export async function checkEverywhere(page: Page, name: string, artifacts: string): Promise<string[]> {
  const shots = join(artifacts, 'screenshots');
  mkdirSync(shots, { recursive: true });
  const problems: string[] = [];
  for (const width of WIDTHS) {
    for (const scheme of SCHEMES) {
      await page.setViewport({ width, height: 900 });
      await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: scheme }]);
      problems.push(...(await pageProblems(page, `${name} at ${width} px, ${scheme}`)));
      await page.screenshot({ path: join(shots, `${name}-${width}-${scheme}.png`), fullPage: true });
    }
  }
  await page.emulateMediaFeatures([]);
  await page.setViewport({ width: 800, height: 600 }); // Puppeteer's default again, for the steps after
  return problems;
}
