"""Obtains credentials from the GCE metadata server with Python google-auth (as
vendored by the Cloud SDK), the way an application on GCE would:

    python3 google_auth_gce.py OTHER_EMAIL AUDIENCE

Prints one JSON object, or {"error": "..."} (exit 1), or {"import_error": "..."} (exit 3).
"""
import json
import sys

try:
    import google.auth
    import google.auth.transport.requests
    from google.auth import compute_engine
except ImportError as e:  # surfaced as a skip by the Go test
    print(json.dumps({"import_error": str(e)}))
    sys.exit(3)


def main():
    other_email, audience = sys.argv[1], sys.argv[2]
    request = google.auth.transport.requests.Request()
    out = {}

    # Application Default Credentials: probe (GCE_METADATA_IP), project, token.
    creds, project = google.auth.default(
        scopes=["https://www.googleapis.com/auth/devstorage.read_only"])
    creds.refresh(request)
    out["adc_type"] = type(creds).__name__
    out["project"] = project
    out["token"] = creds.token
    out["expiry"] = creds.expiry.isoformat()
    out["email"] = creds.service_account_email
    out["universe"] = creds.universe_domain

    # A named account.
    other = compute_engine.Credentials(service_account_email=other_email)
    other.refresh(request)
    out["other_token"] = other.token
    out["other_email"] = other.service_account_email

    # ID token from the identity endpoint.
    idc = compute_engine.IDTokenCredentials(
        request, audience, use_metadata_identity_endpoint=True)
    idc.refresh(request)
    out["id_token"] = idc.token
    out["id_expiry"] = idc.expiry.isoformat()
    print(json.dumps(out))


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001 - report any client failure to the test
        print(json.dumps({"error": "%s: %s" % (type(e).__name__, e)}))
        sys.exit(1)
