/**
 * `save_to_disk`: writes each webhook as one file (reference §4.2, fixing §10.3 item 42).
 *
 * Content: the payload as JSON; a blob payload as its raw bytes; with `include_headers`, the JSON
 * `{"headers": …, "payload": …}` (blob: `{"headers", "content_type", "payload_base64"}`).
 * Files are written atomically — a `0600` temp file in the same directory, fsync, rename, fsync of the
 * directory — so a reader never sees a partial file and `deliver` resolves only once the data is durable.
 * A file with the same name is replaced: keep `{message_id}` in the pattern for one file per webhook.
 *
 * Directory safety, checked at `create`: `base_dir` has no `..`/NUL and is not inside a system directory
 * (unless under a temp directory); `path` is URL-decoded (twice while it still holds `%`), `..`/NUL are
 * refused in every form, and the resolved directory (symlinks followed) must stay inside `base_dir`.
 * The directory is created with mode 0700 when missing.
 */
import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, open, realpath, rename, stat, unlink } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { PermanentDeliveryError, TransientDeliveryError } from '../../shared/delivery-errors.js';
import { WebhookConnectError } from '../../shared/errors.js';
import type { ComponentHealth, ModuleDescriptor, Publisher, WebhookEvent } from '../types.js';
import { saveToDiskConfigSchema, type SaveToDiskConfig } from './schema.js';

const SYSTEM_DIRS = [
  '/etc',
  '/usr',
  '/bin',
  '/sbin',
  '/lib',
  '/lib64',
  '/sys',
  '/proc',
  '/dev',
  '/root',
  '/boot',
  '/private/etc',
  ...['log', 'db', 'run', 'lib', 'cache', 'spool', 'mail', 'backups'].flatMap((d) => [
    `/var/${d}`,
    `/private/var/${d}`,
  ]),
];
const TEMP_DIRS = [
  '/tmp/',
  '/var/tmp/',
  '/var/folders/',
  '/private/tmp/',
  '/private/var/tmp/',
  '/private/var/folders/',
];

function configError(detail: string): WebhookConnectError {
  return new WebhookConnectError('WC_MODULE_UNAVAILABLE', { detail: `save_to_disk: ${detail}` });
}

function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

function isSystemDir(dir: string): boolean {
  const withSlash = dir.endsWith(sep) ? dir : dir + sep;
  if (TEMP_DIRS.some((temp) => withSlash.startsWith(temp))) return false;
  return dir === '/' || SYSTEM_DIRS.some((system) => isInside(dir, system));
}

function decodePath(raw: string): string {
  let decoded = raw;
  try {
    for (let i = 0; i < 2 && decoded.includes('%'); i++) decoded = decodeURIComponent(decoded);
  } catch {
    throw configError('path is not validly URL-encoded');
  }
  for (const form of [raw, decoded]) {
    if (form.includes('\0')) throw configError('path must not contain NUL');
    if (form.split(/[/\\]/).includes('..')) throw configError('path must not contain ..');
  }
  return decoded;
}

async function realpathIfExists(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    return path;
  }
}

/** Validates `base_dir` and `path`, creates the directory if needed, and returns its real path. */
export async function resolveTargetDirectory(config: SaveToDiskConfig, cwd = process.cwd()): Promise<string> {
  const baseRaw = config.base_dir ?? cwd;
  if (baseRaw.includes('\0') || baseRaw.split(/[/\\]/).includes('..')) {
    throw configError('base_dir must not contain .. or NUL');
  }
  const base = await realpathIfExists(resolve(cwd, baseRaw));
  if (isSystemDir(base)) throw configError('base_dir is inside a system directory');
  const wanted = resolve(base, decodePath(config.path));
  if (!isInside(wanted, base)) throw configError('path must stay inside base_dir');
  try {
    await mkdir(wanted, { recursive: true, mode: 0o700 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw code === 'EEXIST' || code === 'ENOTDIR'
      ? configError('path exists and is not a directory')
      : configError(`cannot create the directory (${code ?? 'error'})`);
  }
  const real = await realpath(wanted);
  if (!isInside(real, base)) throw configError('path resolves outside base_dir');
  if (!(await stat(real)).isDirectory()) throw configError('path exists and is not a directory');
  return real;
}

function token(value: string): string {
  return value.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** The file name for one event under `pattern` (validated by the schema). */
export function renderFileName(pattern: string, event: WebhookEvent): string {
  const iso = event.receivedAt.toISOString();
  const values: Record<string, string> = {
    webhook_id: token(event.webhookId),
    message_id: token(event.messageId),
    timestamp: String(event.receivedAt.getTime()),
    date: iso.slice(0, 10),
    time: iso.slice(11, 19).replaceAll(':', ''),
    ext: Buffer.isBuffer(event.payload) ? 'bin' : 'json',
  };
  const name = pattern.replace(/\{([a-z_]+)\}/g, (_whole, key: string) => values[key] ?? '');
  if (name === '' || name === '.' || name.includes('..') || /[/\\\0]/.test(name) || name.length > 255) {
    throw new PermanentDeliveryError('save_to_disk: file name pattern produced an unsafe name');
  }
  return name;
}

function fileContent(event: WebhookEvent, includeHeaders: boolean): Buffer | string {
  const blob = Buffer.isBuffer(event.payload) ? event.payload : undefined;
  if (!includeHeaders) return blob ?? JSON.stringify(event.payload);
  if (blob === undefined) return JSON.stringify({ headers: event.headers, payload: event.payload });
  return JSON.stringify({
    headers: event.headers,
    content_type: event.contentType ?? 'application/octet-stream',
    payload_base64: blob.toString('base64'),
  });
}

const TRANSIENT_FS_CODES = new Set([
  'ENOSPC',
  'EIO',
  'EAGAIN',
  'EMFILE',
  'ENFILE',
  'EBUSY',
  'ENOENT',
  'EDQUOT',
]);

function writeError(error: unknown): Error {
  const code = (error as NodeJS.ErrnoException).code ?? 'error';
  const message = `save_to_disk: write failed (${code})`;
  return TRANSIENT_FS_CODES.has(code)
    ? new TransientDeliveryError(message, { cause: error })
    : new PermanentDeliveryError(message, { cause: error });
}

async function writeAtomically(dir: string, name: string, content: Buffer | string): Promise<void> {
  const temp = join(dir, `.${name}.${randomUUID()}.tmp`);
  let renamed = false;
  try {
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, join(dir, name));
    renamed = true;
    const dirHandle = await open(dir, 'r');
    try {
      await dirHandle.sync();
    } finally {
      await dirHandle.close();
    }
  } catch (error) {
    if (!renamed) await unlink(temp).catch(() => undefined);
    throw writeError(error);
  }
}

async function directoryHealth(dir: string): Promise<ComponentHealth> {
  try {
    if (!(await stat(dir)).isDirectory()) return { status: 'unhealthy', detail: 'target is not a directory' };
  } catch {
    return { status: 'unhealthy', detail: 'target directory missing' };
  }
  try {
    await access(dir, constants.W_OK | constants.X_OK);
  } catch {
    return { status: 'unhealthy', detail: 'target directory not writable' };
  }
  return { status: 'healthy' };
}

export const saveToDiskModule: ModuleDescriptor<SaveToDiskConfig> = {
  type: 'save_to_disk',
  schema: saveToDiskConfigSchema,
  secretFields: [],
  async create(instance): Promise<Publisher> {
    const config = instance.moduleConfig;
    const dir = await resolveTargetDirectory(config);
    return {
      async deliver(event, signal) {
        signal.throwIfAborted();
        const name = renderFileName(config.filename_pattern, event);
        await writeAtomically(dir, name, fileContent(event, config.include_headers));
      },
      async close() {},
      health: () => directoryHealth(dir),
    };
  },
};
