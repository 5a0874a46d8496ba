/** A plain HTTP call to a Consul agent, for assertions that hold for the test agent and a real Consul alike. */
export async function httpCall(
  base: string,
  token: string | undefined,
  method: 'GET' | 'PUT',
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown; headers: Headers }> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers['X-Consul-Token'] = token;
  const res = await fetch(base + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown = text;
  try {
    json = text === '' ? null : JSON.parse(text);
  } catch {
    // plain-text error bodies stay text
  }
  return { status: res.status, json, headers: res.headers };
}
