/** Server-rendered pages (Preact, no inline script), the stylesheet, and the sign-in and account routes. */
export { Banner, ErrorBanner, Layout, renderPage } from './layout.js';
export { PairCodePage, PairConfirmPage, PairOutcomePage } from './pair-page.js';
export { errorPageRenderer, webRoutes } from './routes.js';
export { SetupPage } from './setup-page.js';
