import type { Page } from 'puppeteer-core';

/**
 * Keyboard only (issue 13): presses Tab from where the focus is until the element matching
 * `selector` has it, and fails when it is not reachable within `maxTabs` presses — so a control
 * that the keyboard cannot reach, or that the tab order skips, fails the test.
 */
export async function tabTo(page: Page, selector: string, maxTabs = 80): Promise<void> {
  for (let presses = 0; presses < maxTabs; presses++) {
    if (await page.evaluate((wanted) => document.activeElement?.matches(wanted) ?? false, selector)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`${selector} is not reachable with the Tab key`);
}

/** Tabs to the control and presses Enter on it. */
export async function pressWithKeyboard(page: Page, selector: string): Promise<void> {
  await tabTo(page, selector);
  await page.keyboard.press('Enter');
}
