'use strict';
// Obtains credentials from the GCE metadata server (the keyless agent) with the
// unmodified google-auth-library, the way an application on GCE does:
//   node google_auth_gce.js AUDIENCE
// The server is GCE_METADATA_HOST / GCE_METADATA_IP; the library comes from NODE_PATH.
// Prints one JSON object, or {"error": "..."} (exit 1).
const {GoogleAuth} = require('google-auth-library');

function header(headers, name) {
  return typeof headers.get === 'function' ? headers.get(name) : headers[name] || headers[name.toLowerCase()];
}

async function main() {
  const [audience] = process.argv.slice(2);
  const out = {};
  // Application Default Credentials: no key file, so the library probes the metadata
  // server and uses a Compute client.
  const auth = new GoogleAuth({scopes: ['https://www.googleapis.com/auth/cloud-platform']});
  const client = await auth.getClient();
  out.clientType = client.constructor.name;
  out.token = await auth.getAccessToken();
  out.expiry = client.credentials.expiry_date;
  out.project = await auth.getProjectId();
  out.email = (await auth.getCredentials()).client_email;

  const idc = await auth.getIdTokenClient(audience);
  out.idClientType = idc.constructor.name;
  out.idToken = (header(await idc.getRequestHeaders(), 'authorization') || '').replace(/^Bearer /, '');
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch(err => {
  process.stdout.write(JSON.stringify({error: String((err && err.message) || err)}) + '\n');
  process.exitCode = 1;
});
