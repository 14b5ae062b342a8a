/** @jsxRuntime automatic */
/** @jsxImportSource preact */
import { setupBodySchema } from '@gatehouse/shared';
import Router from '@koa/router';
import { z } from 'zod';
import { AppError } from '../errors/index.js';
import { type AppState, htmlPage, requestMeta, requireSameOrigin, route, type Step, validate } from '../http/index.js';
import { renderPage, SetupPage } from '../web/index.js';
import { bootstrapPassword, type SetupService } from './service.js';

const setupFormSchema = z.strictObject({
  email: z.string().max(320),
  name: z.string().max(100).optional(),
  password: z.string().max(512),
});

/** `POST /api/v1/setup` (JSON + Bootstrap header) and the setup page. Both 404 once done. */
export function setupRoutes(deps: { setup: SetupService; publicOrigin: string; bodyLimit: number; limit: Step }) {
  const router = new Router<AppState>();
  const open: Step = async (_ctx, next) => {
    await deps.setup.assertOpen();
    await next();
  };

  route(
    router,
    {
      method: 'post',
      path: '/api/v1/setup',
      summary: 'First run: name the owner.',
      auth: { kind: 'bootstrap' },
      body: { schema: setupBodySchema, kind: 'json', limit: deps.bodyLimit },
      status: 201,
    },
    deps.limit,
    open,
    ({ body }, ctx) => deps.setup.complete(bootstrapPassword(ctx.get('authorization')), body, requestMeta(ctx)),
  );

  router.get('/setup', htmlPage, open, (ctx) => {
    ctx.type = 'html';
    ctx.body = renderPage(<SetupPage error={null} done={null} />);
  });

  route(
    router,
    {
      method: 'post',
      path: '/setup',
      summary: 'The setup form.',
      hidden: true,
      body: { schema: setupFormSchema, kind: 'form', limit: deps.bodyLimit },
    },
    htmlPage,
    deps.limit,
    requireSameOrigin(deps.publicOrigin),
    open,
    async ({ body: form }, ctx) => {
      ctx.type = 'html';
      try {
        const body = validate(setupBodySchema, { email: form.email, ...(form.name ? { name: form.name } : {}) });
        const owner = await deps.setup.complete(form.password, body, requestMeta(ctx));
        ctx.body = renderPage(<SetupPage error={null} done={{ email: owner.email }} />);
      } catch (error) {
        if (!(error instanceof AppError) || error.status >= 500 || error.code === 'NOT_FOUND') throw error;
        ctx.status = error.status;
        ctx.body = renderPage(<SetupPage error={plainWords(error)} done={null} />);
      }
    },
  );

  return router;
}

/** What the form says went wrong: the field's own message ("Not a valid email address.") when there is one. */
function plainWords(error: AppError): string {
  const issue = error.code === 'VALIDATION_FAILED' ? error.issues?.[0] : undefined;
  return issue?.message ?? error.message;
}
