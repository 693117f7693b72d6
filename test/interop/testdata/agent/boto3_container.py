"""Resolves credentials through boto3's default chain (the container provider, as on
ECS or EKS Pod Identity) and calls GetCallerIdentity with them at AWS_ENDPOINT_URL_STS:

    python3 boto3_container.py

Prints {"method": ..., "access_key": ..., "identity": {...}} or {"error": ...,
"code": ...} (exit 1), or {"import_error": ...} (exit 3).
"""
import json
import sys

try:
    import boto3
    import botocore.exceptions
except ImportError as e:  # surfaced as a skip/failure by the Go test
    print(json.dumps({"import_error": str(e)}))
    sys.exit(3)


def main():
    session = boto3.Session()
    creds = session.get_credentials()
    if creds is None:
        raise RuntimeError("boto3 found no credentials")
    frozen = creds.get_frozen_credentials()
    ident = session.client("sts").get_caller_identity()
    print(json.dumps({
        "method": creds.method,
        "access_key": frozen.access_key,
        "identity": {k: ident[k] for k in ("Arn", "Account", "UserId")},
    }))


if __name__ == "__main__":
    try:
        main()
    except botocore.exceptions.ClientError as e:
        err = e.response.get("Error", {})
        print(json.dumps({"error": str(e), "code": err.get("Code", "")}))
        sys.exit(1)
    except Exception as e:  # noqa: BLE001 - report any client failure to the test
        print(json.dumps({"error": "%s: %s" % (type(e).__name__, e), "code": ""}))
        sys.exit(1)
