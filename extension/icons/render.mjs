// Renders gatehouse.svg into the toolbar and store icons (public/icon/<size>.png) with the
// Chromium the e2e tests use: `node extension/icons/render.mjs`. The PNGs are committed, so a
// build needs neither this script nor a browser.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const svg = readFileSync(here('./gatehouse.svg'), 'utf8');
const browser = await puppeteer.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
try {
  const page = await browser.newPage();
  for (const size of [16, 32, 48, 96, 128]) {
    await page.setViewport({ width: size, height: size });
    await page.setContent(
      `<html><body style="margin:0;background:transparent">${svg.replace('<svg ', `<svg width="${size}" height="${size}" `)}</body></html>`,
    );
    await page.screenshot({ path: here(`../public/icon/${size}.png`), omitBackground: true });
  }
} finally {
  await browser.close();
}
