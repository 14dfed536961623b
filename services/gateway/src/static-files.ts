import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface StaticFile {
  body: Buffer;
  type: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webmanifest': 'application/manifest+json',
};

const here = fileURLToPath(new URL('.', import.meta.url));

/**
 * The web chat and the browser modules it imports, read into memory once at start: the pages
 * (services/gateway/public: the chat at `/`, the operator's page at `/admin`), the client SDK and the protocol package as ES modules, so a browser
 * loads them through an import map with no build step. Only listed files can ever be served.
 */
export function loadStaticFiles(): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  const mounts: Array<[prefix: string, dir: string]> = [
    ['/assets/', join(here, '../public')],
    ['/sdk/', join(here, '../../../packages/client/dist')],
    ['/protocol/', join(here, '../../../packages/protocol/dist')],
  ];
  for (const [prefix, dir] of mounts) {
    for (const path of walk(dir)) {
      const type = TYPES[extname(path)];
      if (type === undefined || !browserFacing(relative(dir, path))) continue;
      files.set(prefix + relative(dir, path).split(sep).join('/'), { body: readFileSync(path), type });
    }
  }
  for (const [path, page] of [['/', '/assets/index.html'], ['/admin', '/assets/admin/index.html'], ['/admin/', '/assets/admin/index.html']] as const) {
    const file = files.get(page);
    if (file !== undefined) files.set(path, file);
  }
  return files;
}

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

/** Node-only SDK entries (terminal client, ws transport) and test code are never served. */
const NODE_ONLY = /(^|\/)(testing|e2e|cli)\/|(^|\/)(node|cli)\.js$|\.test\.js$/;

function browserFacing(relativePath: string): boolean {
  return !NODE_ONLY.test(relativePath.split(sep).join('/'));
}
