"""Obtains an access token with Python google-auth (as vendored by the Cloud SDK) from an
aws external_account configuration, the way an application on AWS would:

    python3 google_auth_aws.py CONFIG_PATH

The region and the AWS keys come from the environment (AWS_REGION, AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), so no metadata server is asked.

Prints {"token": "...", "expiry": "..."} or {"error": "..."} (exit 1) as one JSON line.
"""
import json
import sys

try:
    from google.auth import aws
    import google.auth.transport.requests
except ImportError as e:  # surfaced as a skip/failure by the Go test
    print(json.dumps({"import_error": str(e)}))
    sys.exit(3)


def main():
    creds = aws.Credentials.from_file(
        sys.argv[1], scopes=["https://www.googleapis.com/auth/cloud-platform"])
    creds.refresh(google.auth.transport.requests.Request())
    print(json.dumps({"token": creds.token, "expiry": creds.expiry.isoformat()}))


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001 - report any client failure to the test
        print(json.dumps({"error": "%s: %s" % (type(e).__name__, e)}))
        sys.exit(1)
