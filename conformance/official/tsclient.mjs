// Interoperability probe: the official TypeScript SDK's OAuth client (the
// one the MCP Inspector and many desktop clients use) against an MCP server
// that requires OAuth. It discovers the Protected Resource Metadata,
// registers dynamically (RFC 7591), authorizes with PKCE S256 and the RFC
// 8707 resource — following the IdP's redirects and submitting its login and
// consent forms like a browser would (as alice) —, lists the tools, calls a
// read tool, then a write tool, whose 403 insufficient_scope makes the SDK
// re-authorize with the larger scope. It prints one JSON line per event and
// a last line {"result": {...}} that official.TSClient grades.
//
//   node tsclient.mjs <mcp-url>        (MCP_SDK_DIR: the SDK's dist/esm dir)
const sdk = process.env.MCP_SDK_DIR;
const { Client } = await import(`${sdk}/client/index.js`);
const { StreamableHTTPClientTransport } = await import(`${sdk}/client/streamableHttp.js`);
const { UnauthorizedError } = await import(`${sdk}/client/auth.js`);

const mcpURL = process.argv[2];
const redirect = 'http://127.0.0.1:6274/oauth/callback';
const result = { registered: false, authorizations: [], tools: [], read: false, write: false, stepUp: false };
const emit = (o) => console.log(JSON.stringify(o));
let clientInfo, tokens, verifier, pendingCode;

// A minimal browser: follows redirects with cookies, fills the login form
// (alice / alice-password) and approves the consent form as it comes.
async function browse(url) {
  const cookies = {};
  const jar = () => Object.entries(cookies).map(([k, v]) => `${k}=${v}`).join('; ');
  const keep = (res) => {
    for (const c of res.headers.getSetCookie?.() ?? []) {
      const kv = c.split(';')[0];
      const i = kv.indexOf('=');
      cookies[kv.slice(0, i)] = kv.slice(i + 1);
    }
  };
  let res = await fetch(url, { redirect: 'manual', headers: { cookie: jar() } });
  for (let hop = 0; hop < 12; hop++) {
    keep(res);
    if (res.status >= 300 && res.status < 400) {
      const loc = new URL(res.headers.get('location'), url);
      if (loc.href.startsWith(redirect)) return loc;
      url = loc.href;
      res = await fetch(url, { redirect: 'manual', headers: { cookie: jar() } });
      continue;
    }
    const html = await res.text();
    const form = html.match(/<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/i);
    if (!form) throw new Error(`no form at ${new URL(url).pathname} (HTTP ${res.status})`);
    const action = new URL(form[1].replace(/&amp;/g, '&'), url).href;
    const body = new URLSearchParams();
    for (const m of form[2].matchAll(/<input([^>]*)>/gi)) {
      const attr = (n) => (m[1].match(new RegExp(`${n}="([^"]*)"`)) || [])[1];
      const name = attr('name');
      if (!name || (attr('type') === 'checkbox' && !/checked/.test(m[1]))) continue;
      let v = (attr('value') || '').replace(/&amp;/g, '&');
      if (name === 'username' || name === 'login') v = 'alice';
      if (name === 'password') v = 'alice-password';
      body.append(name, v);
    }
    for (const b of form[2].matchAll(/<button([^>]*)>/gi)) {
      const name = (b[1].match(/name="([^"]*)"/) || [])[1];
      const value = (b[1].match(/value="([^"]*)"/) || [])[1];
      if (name && value === 'approve') body.append(name, value);
    }
    emit({ event: 'form', path: new URL(action).pathname });
    res = await fetch(action, { method: 'POST', redirect: 'manual', body, headers: { cookie: jar() } });
  }
  throw new Error('too many redirects');
}

const provider = {
  get redirectUrl() { return redirect; },
  get clientMetadata() {
    return { client_name: 'conformance ts-sdk probe', redirect_uris: [redirect], grant_types: ['authorization_code'],
      response_types: ['code'], token_endpoint_auth_method: 'none' };
  },
  clientInformation: () => clientInfo,
  saveClientInformation: (i) => { clientInfo = i; result.registered = true; result.registeredScope = i.scope ?? ''; emit({ event: 'registered', scope: i.scope }); },
  tokens: () => tokens,
  saveTokens: (t) => { tokens = t; emit({ event: 'token', scope: t.scope }); },
  redirectToAuthorization: async (u) => {
    const q = u.searchParams;
    const a = { scope: q.get('scope'), resource: q.get('resource'), method: q.get('code_challenge_method') };
    result.authorizations.push(a);
    const back = (await browse(u.href)).searchParams;
    if (back.get('error')) a.error = back.get('error');
    pendingCode = back.get('code');
  },
  saveCodeVerifier: (v) => { verifier = v; },
  codeVerifier: () => verifier,
};

async function connect() {
  for (let attempt = 0; attempt < 3; attempt++) {
    const transport = new StreamableHTTPClientTransport(new URL(mcpURL), { authProvider: provider });
    const client = new Client({ name: 'conformance-ts-probe', version: '0' });
    try {
      await client.connect(transport);
      return { client, transport };
    } catch (e) {
      if (!(e instanceof UnauthorizedError) || !pendingCode) throw e;
      await transport.finishAuth(pendingCode);
      pendingCode = undefined;
    }
  }
  throw new Error('could not connect after 3 authorizations');
}

try {
  let { client, transport } = await connect();
  result.tools = (await client.listTools()).tools.map((t) => t.name);
  const read = await client.callTool({ name: 'nc_notes_search_notes', arguments: { query: 'welcome' } });
  result.read = !read.isError;
  const args = { title: 'conformance ts-sdk probe', content: 'written after a step-up', category: '' };
  let write;
  try {
    write = await client.callTool({ name: 'nc_notes_create_note', arguments: args });
  } catch (e) {
    if (!(e instanceof UnauthorizedError) || !pendingCode) throw e;
    result.stepUp = true;
    await transport.finishAuth(pendingCode);
    pendingCode = undefined;
    await client.close();
    ({ client, transport } = await connect());
    write = await client.callTool({ name: 'nc_notes_create_note', arguments: args });
  }
  result.write = !write.isError;
  if (result.write) {
    await client.callTool({ name: 'nc_notes_delete_note', arguments: { note_id: write.structuredContent.id } });
  }
  await client.close();
} catch (e) {
  result.error = String(e?.message ?? e);
}
emit({ result });
// Open streams (an SSE GET the server keeps) must not keep the probe alive.
process.exit(0);
