import { createReadStream } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type Router from '@koa/router';
import { NotFoundError } from './errors.js';

/**
 * The API docs page (`/docs`): Swagger UI from the `swagger-ui-dist` package, served from node_modules (no CDN),
 * reading `/openapi.json`. Public, as `/openapi.json` is; trying a route out needs a token (its Authorize button).
 */

/** The only files of the package served, by the name the page asks for: nothing else of node_modules is reachable. */
const ASSETS: Readonly<Record<string, string>> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

/** Ours, not the package's initializer: it points at this Manager's document (a script file: the CSP allows no inline script). */
const INITIALIZER = `window.onload = () => {
  window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#docs', deepLinking: true, presets: [SwaggerUIBundle.presets.apis] });
};
`;

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>OpenAperture Manager API</title>
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="docs"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
`;

/**
 * Swagger UI sets inline styles and calls the API it documents; everything else stays as strict as the API's
 * answers (app.ts SECURITY_HEADERS).
 */
const DOCS_POLICY = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

/** Adds `GET /docs` and its assets to `router`. */
export function mountDocs(router: Router): void {
  const assetsDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  router.get('/docs', (ctx) => {
    ctx.set('Content-Security-Policy', DOCS_POLICY);
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = PAGE;
  });
  router.get('/docs/:file', (ctx) => {
    const file = ctx.params.file ?? '';
    ctx.set('Content-Security-Policy', DOCS_POLICY);
    if (file === 'init.js') {
      ctx.type = 'text/javascript; charset=utf-8';
      ctx.body = INITIALIZER;
      return;
    }
    const type = Object.hasOwn(ASSETS, file) ? ASSETS[file] : undefined;
    if (type === undefined) throw new NotFoundError(`Docs file ${file}`);
    ctx.type = type;
    ctx.body = createReadStream(join(assetsDir, file));
  });
}
