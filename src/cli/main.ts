/**
 * `webhook-connect` command line: `serve`, `config check`, `--help`, `--version`. Commands are thin: they
 * read settings, wire capabilities together and report. Exit codes: 0 success, 1 invalid configuration
 * or runtime failure, 2 usage error.
 */
import { readFileSync } from 'node:fs';
import { runConfigCheck, runServe } from './serve.js';

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export const USAGE = `webhook-connect ${VERSION} — receive webhooks, buffer them durably, deliver them behind firewalls.

Usage:
  webhook-connect serve [options]           start the receiver
  webhook-connect config check [options]    validate the configuration and exit (0 valid, 1 invalid)
  webhook-connect connector --config FILE   run the local connector (see docs/connector.md)
  webhook-connect --help | --version

Options of serve and config check (each overrides its environment variable when given):
  --webhooks <file>        webhooks.json or .yaml       (WEBHOOKS_CONFIG_FILE, default webhooks.json)
  --connections <file>     connections.json or .yaml    (CONNECTIONS_CONFIG_FILE, default connections.json)
  --host <address>         listen address               (HOST, default 0.0.0.0)
  --port <port>            listen port                  (PORT, default 8000)
  --watch                  reload when the files change (CONFIG_FILE_WATCHING_ENABLED)
  --max-body-bytes <n>     default body limit           (MAX_BODY_BYTES, default 10485760)
  --tls-cert <file>        serve HTTPS with this PEM certificate chain (TLS_CERT_FILE)
  --tls-key <file>         and this PEM private key     (TLS_KEY_FILE)

Every setting and environment variable: docs/configuration.md`;

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    case '--version':
    case '-v':
      console.log(VERSION);
      return 0;
    case 'serve':
      return runServe(rest, env);
    case 'connector':
      return (await import('./connector.js')).runConnector(rest, env);
    case 'config':
      if (rest[0] === 'check') return runConfigCheck(rest.slice(1), env);
      console.error(`unknown config subcommand '${rest[0] ?? ''}'; did you mean 'config check'?`);
      return 2;
    default:
      console.error(`unknown command '${command}'\n\n${USAGE}`);
      return 2;
  }
}

// Run directly (tests and development: `node --import tsx src/cli/main.ts serve`).
if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  process.exitCode = await main(process.argv.slice(2), process.env);
}
