"""Drives boto3 against keyless's STS the way an application on IRSA or a CI runner does:

    python3 boto3_sts.py ENDPOINT_URL

The credentials come from the environment's web identity configuration
(AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN, AWS_ROLE_SESSION_NAME, with the provider's
AssumeRoleWithWebIdentity sent to AWS_ENDPOINT_URL_STS). With them the script calls
GetCallerIdentity, then fetches presigned GetCallerIdentity URLs with urllib: one
presigned for GET (the form `aws eks get-token` and Vault-style tokens use) and one
presigned with the defaults, which sign the model's method, POST (fetched with POST).

Prints one JSON line: {"method", "identity": {Arn, Account, UserId}, "presigned_get":
{url, status, body}, "presigned_post": {...}} or {"error", "code"} (exit 1).
"""
import json
import sys
import urllib.error
import urllib.request

try:
    import boto3
    import botocore.exceptions
except ImportError as e:  # surfaced as a skip/failure by the Go test
    print(json.dumps({"import_error": str(e)}))
    sys.exit(3)


def fetch(url, method):
    req = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(req, timeout=20) as resp:
            status, body = resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read().decode()
    return {"url": url, "status": status, "body": body}


def main():
    session = boto3.Session()
    sts = session.client("sts", endpoint_url=sys.argv[1])
    identity = sts.get_caller_identity()
    method = session.get_credentials().method
    get_url = sts.generate_presigned_url("get_caller_identity", ExpiresIn=300, HttpMethod="GET")
    post_url = sts.generate_presigned_url("get_caller_identity", ExpiresIn=300)
    print(json.dumps({
        "method": method,
        "identity": {k: identity[k] for k in ("Arn", "Account", "UserId")},
        "presigned_get": fetch(get_url, "GET"),
        "presigned_post": fetch(post_url, "POST"),
    }))


if __name__ == "__main__":
    try:
        main()
    except botocore.exceptions.ClientError as e:
        print(json.dumps({"error": str(e), "code": e.response["Error"]["Code"]}))
        sys.exit(1)
    except Exception as e:  # noqa: BLE001 - report any client failure to the test
        print(json.dumps({"error": "%s: %s" % (type(e).__name__, e)}))
        sys.exit(1)
