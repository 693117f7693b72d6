'use strict';
// Obtains AWS role session credentials from keyless with the unmodified AWS SDK for
// JavaScript v3, then calls GetCallerIdentity with them:
//   node aws-sts.js token-file ENDPOINT
//       fromTokenFile() configured only by the environment (AWS_WEB_IDENTITY_TOKEN_FILE,
//       AWS_ROLE_ARN, AWS_ROLE_SESSION_NAME; its STS endpoint from AWS_ENDPOINT_URL_STS)
//   node aws-sts.js web-token ENDPOINT ROLE_ARN SESSION TOKEN_FILE DURATION_SECONDS
//       fromWebToken() with an explicit STS client configuration
// The region is AWS_REGION. Prints one JSON line: {"credentials": {...}, "identity":
// {...}} or {"error", "name"} (exit 1).
const fs = require('fs');
const {STSClient, GetCallerIdentityCommand} = require('@aws-sdk/client-sts');
const {fromTokenFile, fromWebToken} = require('@aws-sdk/credential-providers');

async function main() {
  const [mode, endpoint, roleArn, roleSessionName, tokenFile, duration] = process.argv.slice(2);
  const region = process.env.AWS_REGION;
  let provider;
  if (mode === 'token-file') {
    provider = fromTokenFile();
  } else if (mode === 'web-token') {
    provider = fromWebToken({
      roleArn, roleSessionName, durationSeconds: Number(duration),
      webIdentityToken: fs.readFileSync(tokenFile, 'ascii').trim(),
      clientConfig: {endpoint, region},
    });
  } else {
    throw new Error('usage: aws-sts.js token-file|web-token ENDPOINT [ROLE_ARN SESSION TOKEN_FILE DURATION]');
  }
  const creds = await provider();
  const sts = new STSClient({region, endpoint, credentials: creds, maxAttempts: 1});
  const id = await sts.send(new GetCallerIdentityCommand({}));
  process.stdout.write(JSON.stringify({
    credentials: {
      accessKeyId: creds.accessKeyId,
      secretLength: creds.secretAccessKey.length,
      hasSessionToken: Boolean(creds.sessionToken),
      expiration: creds.expiration && creds.expiration.toISOString(),
      accountId: creds.accountId,
    },
    identity: {Arn: id.Arn, Account: id.Account, UserId: id.UserId},
  }) + '\n');
}

main().catch(err => {
  process.stdout.write(JSON.stringify({
    error: String((err && err.message) || err), name: err && err.name,
  }) + '\n');
  process.exitCode = 1;
});
