"""Obtains credentials from the GCE metadata server (the keyless agent) with Python
google-auth as vendored by the Cloud SDK, the way an application on GCE does:

    python3 google_auth_gce.py SCOPE AUDIENCE

The server is GCE_METADATA_HOST (GCE_METADATA_IP for the probe). Prints one JSON
object, or {"error": "..."} (exit 1), or {"import_error": "..."} (exit 3).
"""
import json
import sys

try:
    import google.auth
    import google.auth.transport.requests
    from google.auth import compute_engine
except ImportError as e:  # surfaced as a skip/failure by the Go test
    print(json.dumps({"import_error": str(e)}))
    sys.exit(3)


def main():
    scope, audience = sys.argv[1], sys.argv[2]
    request = google.auth.transport.requests.Request()
    out = {}

    # Application Default Credentials with a scope: probe, project, token.
    creds, project = google.auth.default(scopes=[scope])
    creds.refresh(request)
    out["adc_type"] = type(creds).__name__
    out["project"] = project
    out["scoped_token"] = creds.token
    out["email"] = creds.service_account_email

    # compute_engine.Credentials constructed directly, default scopes.
    direct = compute_engine.Credentials()
    direct.refresh(request)
    out["token"] = direct.token
    out["expiry"] = direct.expiry.isoformat()

    # An ID token from the identity endpoint.
    idc = compute_engine.IDTokenCredentials(
        request, audience, use_metadata_identity_endpoint=True)
    idc.refresh(request)
    out["id_token"] = idc.token
    print(json.dumps(out))


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001 - report any client failure to the test
        print(json.dumps({"error": "%s: %s" % (type(e).__name__, e)}))
        sys.exit(1)
