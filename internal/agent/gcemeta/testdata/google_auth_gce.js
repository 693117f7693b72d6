'use strict';
// Obtains credentials from the GCE metadata server with the unmodified
// google-auth-library, the way an application on GCE would:
//   node google_auth_gce.js OTHER_EMAIL AUDIENCE
// Prints one JSON object, or {"error": "..."} (exit 1).
const {GoogleAuth, Compute} = require('google-auth-library');

function header(headers, name) {
  return typeof headers.get === 'function' ? headers.get(name) : headers[name] || headers[name.toLowerCase()];
}

async function main() {
  const [otherEmail, audience] = process.argv.slice(2);
  const out = {};
  const auth = new GoogleAuth({scopes: ['https://www.googleapis.com/auth/devstorage.read_only']});
  const client = await auth.getClient();
  out.clientType = client.constructor.name;
  out.token = (await auth.getAccessToken());
  out.expiry = client.credentials.expiry_date;
  out.project = await auth.getProjectId();
  out.email = (await auth.getCredentials()).client_email;

  const other = new Compute({serviceAccountEmail: otherEmail, scopes: ['x', 'y']});
  out.otherToken = (await other.getAccessToken()).token;

  const idc = await auth.getIdTokenClient(audience);
  const auth2 = header(await idc.getRequestHeaders(), 'authorization') || '';
  out.idToken = auth2.replace(/^Bearer /, '');
  out.idExpiry = idc.credentials.expiry_date;
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch(err => {
  process.stdout.write(JSON.stringify({error: String((err && err.stack) || err)}) + '\n');
  process.exitCode = 1;
});
