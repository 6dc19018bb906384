/** `webhook-connect connector`: placeholder until the connector lands (docs/connector.md). */
export async function runConnector(_args: readonly string[], _env: NodeJS.ProcessEnv): Promise<number> {
  console.error('the connector is not available in this build yet');
  return 2;
}
