'use strict';
// Obtains an access token with the unmodified google-auth-library from an
// external_account credential configuration, as an application would:
//   node gettoken.js keyFile|credentials CONFIG_PATH
// Prints {"token": "..."} or {"error": "..."} (exit 1) as one JSON line.
const fs = require('fs');
const {GoogleAuth} = require('google-auth-library');

async function main() {
  const [mode, path] = process.argv.slice(2);
  const opts = {scopes: ['https://www.googleapis.com/auth/cloud-platform']};
  if (mode === 'keyFile') {
    opts.keyFile = path;
  } else if (mode === 'credentials') {
    opts.credentials = JSON.parse(fs.readFileSync(path, 'utf8'));
  } else {
    throw new Error('usage: gettoken.js keyFile|credentials CONFIG_PATH');
  }
  const auth = new GoogleAuth(opts);
  const token = await auth.getAccessToken();
  if (!token) {
    throw new Error('getAccessToken returned no token');
  }
  process.stdout.write(JSON.stringify({token}) + '\n');
}

main().catch(err => {
  process.stdout.write(JSON.stringify({error: String((err && err.message) || err)}) + '\n');
  process.exitCode = 1;
});
