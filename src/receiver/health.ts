/**
 * Component health for `/health`. Each component reports `healthy`, `degraded` (working, with a problem
 * worth a look) or `unhealthy` (cannot do its job). The overall status is the worst component's;
 * `unhealthy` answers 503 so load balancers stop sending traffic.
 */
import type { ComponentHealth, ComponentStatus } from '../modules/types.js';

export type HealthCheck = () => ComponentHealth | Promise<ComponentHealth>;

const RANK: Record<ComponentStatus, number> = { healthy: 0, degraded: 1, unhealthy: 2 };
const CHECK_TIMEOUT_MS = 2000;

export interface HealthReport {
  readonly status: ComponentStatus;
  readonly components: Record<string, ComponentStatus>;
  readonly details: Record<string, string>;
}

export class HealthRegistry {
  readonly #checks = new Map<string, HealthCheck>();

  /** Adds or replaces a named check. */
  register(name: string, check: HealthCheck): void {
    this.#checks.set(name, check);
  }

  async report(extra: Iterable<[string, HealthCheck]> = []): Promise<HealthReport> {
    const entries = [...this.#checks, ...extra];
    const results = await Promise.all(entries.map(([, check]) => runCheck(check)));
    const components: Record<string, ComponentStatus> = {};
    const details: Record<string, string> = {};
    let status: ComponentStatus = 'healthy';
    entries.forEach(([name], index) => {
      const result = results[index] as ComponentHealth;
      components[name] = result.status;
      if (result.detail !== undefined) details[name] = result.detail;
      if (RANK[result.status] > RANK[status]) status = result.status;
    });
    return { status, components, details };
  }
}

async function runCheck(check: HealthCheck): Promise<ComponentHealth> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<ComponentHealth>((resolve) => {
    timer = setTimeout(
      () => resolve({ status: 'unhealthy', detail: 'health check timed out' }),
      CHECK_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([Promise.resolve().then(check), timeout]);
  } catch {
    return { status: 'unhealthy', detail: 'health check failed' };
  } finally {
    clearTimeout(timer);
  }
}
