/**
 * Watching configuration files for live reload.
 *
 * We watch each file's DIRECTORY, not the file: editors and deploy tools replace a file by writing a
 * temporary one and renaming it over the original, which a watch on the old inode never sees. Events are
 * matched to the watched files by name, whatever the names are. Events for other names (including the
 * `..data` symlink swap of a Kubernetes ConfigMap) trigger a stat of the watched files in that directory,
 * and a file whose identity, size or times changed counts as changed; unrelated files are ignored.
 *
 * Lifecycle of a change: an event marks the file pending and (re)starts the debounce timer; when the timer
 * fires with a pending file absent (an editor between delete and re-create) we wait up to
 * {@link ABSENT_RETRIES} more debounce periods for it to come back, then report it either way (the reload
 * then fails and keeps the previous configuration). One callback carries every file changed in the burst.
 * A directory that cannot be watched (missing, or its watcher failed) is retried periodically; when the
 * watch is re-established, files that changed meanwhile are reported.
 */
import { statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Logger } from '../observability/logger.js';

/** Extra debounce periods to wait for a changed file that is momentarily absent. */
export const ABSENT_RETRIES = 3;

/** Options of {@link watchConfigFiles}. */
export interface WatchConfigOptions {
  /** Quiet period after the last event before `onChange` runs; a burst of writes gives one call. */
  readonly debounceMs: number;
  /**
   * Called with the changed files, as given in `paths` and in that order. Errors (and rejected promises)
   * are logged, not thrown.
   */
  readonly onChange: (changedPaths: string[]) => void;
  /** Receives watcher problems and callback errors; default none. */
  readonly logger?: Logger;
}

/** A running watch; `close()` stops every watcher and timer. */
export interface ConfigWatcher {
  close(): void;
}

interface Target {
  /** The path as the caller gave it. */
  readonly given: string;
  readonly order: number;
  readonly dir: string;
  readonly name: string;
}

/** Identity and change times of a file, following symlinks; `absent` when it cannot be stat'ed. */
function fingerprint(path: string): string {
  try {
    const s = statSync(path, { bigint: true });
    return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch {
    return 'absent';
  }
}

/**
 * Watches the given files and calls `onChange`, debounced, when any of them is written, replaced,
 * removed or re-created. Never throws for a missing file or directory; it is watched once it appears.
 */
export function watchConfigFiles(paths: readonly string[], options: WatchConfigOptions): ConfigWatcher {
  const { debounceMs, onChange, logger } = options;
  const retryMs = Math.max(debounceMs, 500);
  const checkDelayMs = Math.min(debounceMs, 100);

  const targets = new Map<string, Target>(); // by absolute path
  const byDir = new Map<string, Map<string, string>>(); // dir → file name → absolute path
  for (const given of paths) {
    const absolute = resolve(given);
    if (targets.has(absolute)) continue;
    const target = { given, order: targets.size, dir: dirname(absolute), name: basename(absolute) };
    targets.set(absolute, target);
    const names = byDir.get(target.dir) ?? new Map<string, string>();
    names.set(target.name, absolute);
    byDir.set(target.dir, names);
  }

  const known = new Map<string, string>();
  for (const absolute of targets.keys()) known.set(absolute, fingerprint(absolute));

  const watchers = new Map<string, FSWatcher>();
  const retryTimers = new Map<string, NodeJS.Timeout>();
  const checkTimers = new Map<string, NodeJS.Timeout>();
  const pending = new Set<string>();
  let debounceTimer: NodeJS.Timeout | undefined;
  let absentWaits = 0;
  let closed = false;

  function mark(absolute: string): void {
    pending.add(absolute);
    absentWaits = 0;
    clearTimeout(debounceTimer);
    debounceTimer = setTimeout(flush, debounceMs);
  }

  function flush(): void {
    debounceTimer = undefined;
    if (closed || pending.size === 0) return;
    const missing = [...pending].some((absolute) => fingerprint(absolute) === 'absent');
    if (missing && absentWaits < ABSENT_RETRIES) {
      absentWaits += 1;
      debounceTimer = setTimeout(flush, debounceMs);
      return;
    }
    absentWaits = 0;
    const changed = [...pending].sort((a, b) => (targets.get(a)?.order ?? 0) - (targets.get(b)?.order ?? 0));
    pending.clear();
    for (const absolute of changed) known.set(absolute, fingerprint(absolute));
    const givenPaths = changed.map((absolute) => targets.get(absolute)?.given ?? absolute);
    logger?.debug({ paths: givenPaths }, 'configuration files changed');
    try {
      const result: unknown = onChange(givenPaths);
      if (result instanceof Promise) {
        result.catch((error: unknown) =>
          logger?.error({ err: error }, 'configuration change handler failed'),
        );
      }
    } catch (error) {
      logger?.error({ err: error }, 'configuration change handler failed');
    }
  }

  /** Marks the files of `dir` whose fingerprint moved since the last report. */
  function checkDir(dir: string): void {
    for (const absolute of byDir.get(dir)?.values() ?? []) {
      if (fingerprint(absolute) !== known.get(absolute)) mark(absolute);
    }
  }

  function scheduleCheck(dir: string): void {
    if (checkTimers.has(dir)) return;
    checkTimers.set(
      dir,
      setTimeout(() => {
        checkTimers.delete(dir);
        if (!closed) checkDir(dir);
      }, checkDelayMs),
    );
  }

  function scheduleRetry(dir: string): void {
    if (closed || retryTimers.has(dir)) return;
    retryTimers.set(
      dir,
      setTimeout(() => {
        retryTimers.delete(dir);
        if (closed) return;
        if (startDir(dir)) checkDir(dir); // report what changed while unwatched
      }, retryMs),
    );
  }

  function onEvent(dir: string, filename: string | null): void {
    if (closed) return;
    const absolute = filename === null ? undefined : byDir.get(dir)?.get(filename);
    if (absolute !== undefined) mark(absolute);
    else scheduleCheck(dir); // another name, or the platform gave none
  }

  function startDir(dir: string): boolean {
    try {
      const watcher = watch(dir, { persistent: true }, (_event, filename) => onEvent(dir, filename));
      watcher.on('error', (error: unknown) => {
        logger?.warn({ err: error, dir }, 'configuration directory watch failed; retrying');
        watcher.close();
        watchers.delete(dir);
        scheduleRetry(dir);
      });
      watchers.set(dir, watcher);
      return true;
    } catch (error) {
      logger?.warn({ err: error, dir }, 'cannot watch configuration directory yet; retrying');
      scheduleRetry(dir);
      return false;
    }
  }

  for (const dir of byDir.keys()) startDir(dir);

  return {
    close(): void {
      if (closed) return;
      closed = true;
      clearTimeout(debounceTimer);
      for (const timer of [...retryTimers.values(), ...checkTimers.values()]) clearTimeout(timer);
      retryTimers.clear();
      checkTimers.clear();
      for (const watcher of watchers.values()) watcher.close();
      watchers.clear();
      pending.clear();
    },
  };
}
