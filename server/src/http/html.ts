import type { AppContext } from './state.js';

/** Marks a route as one a person's browser opens, so failures render as a page. */
export async function htmlPage(ctx: AppContext, next: () => Promise<unknown>) {
  ctx.state.htmlErrors = true;
  await next();
}

/** Sends a rendered page; pages carry per-person state (CSRF tokens, sessions), so never cached. */
export function sendHtml(ctx: AppContext, html: string, status = 200) {
  ctx.status = status;
  ctx.type = 'html';
  ctx.set('Cache-Control', 'no-store');
  ctx.body = html;
}
