/**
 * A TCP proxy to a service that a test can cut (listener closed, every open socket destroyed) and restore
 * on the same port. Tests route a receiver's buffer connection (Redis, RabbitMQ) through one to model an
 * outage of the service without stopping the machine's shared service, which other test files use.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tcpReachable } from './tcp.js';

export interface ServiceAddress {
  readonly host: string;
  readonly port: number;
}

export class CuttableProxy {
  readonly #target: ServiceAddress;
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;
  /** The proxy's port on 127.0.0.1 (0 until the first `open`; kept across cuts). */
  port = 0;

  constructor(target: ServiceAddress) {
    this.#target = target;
  }

  /** Whether the proxy is accepting connections. */
  get isOpen(): boolean {
    return this.#server !== undefined;
  }

  /** Listens (again) on 127.0.0.1: a free port the first time, the same port after a cut. */
  async open(): Promise<void> {
    if (this.#server !== undefined) return;
    const server = createServer((client) => {
      const upstream = connect(this.#target);
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on('close', () => this.#sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.port = (server.address() as { port: number }).port;
    this.#server = server;
  }

  /** Closes the listener and destroys every proxied connection (both sides). */
  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const socket of this.#sockets) socket.destroy();
    if (server !== undefined) await new Promise((resolve) => server.close(resolve));
  }
}

/** Whether a TCP connection to `target` can be opened within a second. */
export function reachable(target: ServiceAddress): Promise<boolean> {
  return tcpReachable(target.host, target.port);
}
