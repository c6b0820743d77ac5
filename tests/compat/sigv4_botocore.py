"""Signs requests with botocore's SigV4Auth, for tests/sigv4_botocore.rs.

Reads a JSON list of requests on stdin; each has method, url, headers (list of [name, value]),
body, access_key, secret_key, token (or null), region, service, amz_date. Prints a JSON list of
{"authorization", "canonical_request", "x_amz_date", "x_amz_security_token"}.
"""

import datetime
import json
import sys

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def sign(case):
    fixed = datetime.datetime.strptime(case["amz_date"], "%Y%m%dT%H%M%SZ")
    botocore.auth.get_current_datetime = lambda *args, **kwargs: fixed
    request = AWSRequest(
        method=case["method"],
        url=case["url"],
        data=case["body"].encode("utf-8"),
        headers=dict(case["headers"]),
    )
    credentials = Credentials(case["access_key"], case["secret_key"], case["token"])
    signer = botocore.auth.SigV4Auth(credentials, case["service"], case["region"])
    captured = {}
    compute = signer.canonical_request

    def canonical_request(request):
        captured["canonical"] = compute(request)
        return captured["canonical"]

    signer.canonical_request = canonical_request
    signer.add_auth(request)
    return {
        "authorization": request.headers["Authorization"],
        "canonical_request": captured["canonical"],
        "x_amz_date": request.headers["X-Amz-Date"],
        "x_amz_security_token": request.headers.get("X-Amz-Security-Token"),
    }


print(json.dumps([sign(case) for case in json.load(sys.stdin)]))
