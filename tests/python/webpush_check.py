#!/usr/bin/env python3
"""An independent check of fireline's Web Push messages, with PyPI's http-ece (RFC 8188
and RFC 8291 decryption) and cryptography (P-256 keys, the VAPID ES256 signature).

Plays the browser, for crates/fireline-notify/tests/webpush.rs:

  webpush_check.py keys
      Prints {"subscription": <PushSubscription.toJSON()>, "private_key": <base64url>}
      for a fresh P-256 key pair and auth secret.

  webpush_check.py check
      Reads {"private_key", "subscription", "subject", "now", "headers", "body"} on
      stdin (the body base64url, the headers a name-to-value object), decrypts the body
      and verifies the Authorization header's VAPID token (RFC 8292). Prints
      {"plaintext": <base64url>, "jwt_header": {...}, "claims": {...}}; on any failure
      prints the reason on stderr and exits 1.
"""

import base64
import json
import os
import sys
from urllib.parse import urlsplit

import http_ece
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


class CheckFailed(Exception):
    pass


def b64d(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64e(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def keys():
    private = ec.generate_private_key(ec.SECP256R1())
    public = private.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    subscription = {
        "endpoint": "https://push.example.net/wpush/v2/" + b64e(os.urandom(24)),
        "expirationTime": None,
        "keys": {"p256dh": b64e(public), "auth": b64e(os.urandom(16))},
    }
    private_key = private.private_numbers().private_value.to_bytes(32, "big")
    return {"subscription": subscription, "private_key": b64e(private_key)}


def require(condition, message):
    if not condition:
        raise CheckFailed(message)


def decrypt(body, private, auth):
    # RFC 8291 §4: one aes128gcm record, keyid = the sender's uncompressed point.
    require(len(body) <= 4096, f"body is {len(body)} bytes, over 4096")
    require(len(body) >= 86 + 17, f"body is {len(body)} bytes, too short")
    rs = int.from_bytes(body[16:20], "big")
    require(rs == 4096, f"record size {rs}, expected 4096")
    require(body[20] == 65, f"keyid length {body[20]}, expected 65")
    require(body[21] == 0x04, "keyid is not an uncompressed P-256 point")
    return http_ece.decrypt(
        body, private_key=private, auth_secret=auth, version="aes128gcm"
    )


def verify_vapid(authorization, endpoint, subject, now):
    scheme, _, params = authorization.partition(" ")
    require(scheme == "vapid", f"Authorization scheme {scheme!r}, expected vapid")
    fields = dict(p.strip().split("=", 1) for p in params.split(","))
    require(set(fields) == {"t", "k"}, f"vapid parameters {sorted(fields)}")
    header_b64, claims_b64, signature_b64 = fields["t"].split(".")
    signature = b64d(signature_b64)
    require(len(signature) == 64, f"signature is {len(signature)} bytes, not r || s")
    public = ec.EllipticCurvePublicKey.from_encoded_point(
        ec.SECP256R1(), b64d(fields["k"])
    )
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    try:
        public.verify(
            der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256())
        )
    except InvalidSignature:
        raise CheckFailed("VAPID signature does not verify with k") from None
    header = json.loads(b64d(header_b64))
    claims = json.loads(b64d(claims_b64))
    require(header == {"typ": "JWT", "alg": "ES256"}, f"JWT header {header}")
    url = urlsplit(endpoint)
    origin = f"{url.scheme}://{url.netloc}"
    require(claims.get("aud") == origin, f"aud {claims.get('aud')!r}, expected {origin}")
    exp = claims.get("exp")
    require(isinstance(exp, int), f"exp {exp!r} is not an integer")
    require(now < exp <= now + 24 * 3600, f"exp {exp} not within 24 h after {now}")
    require(claims.get("sub") == subject, f"sub {claims.get('sub')!r}")
    require(subject.startswith(("mailto:", "https:")), f"sub {subject!r}")
    return header, claims


def check(request):
    subscription = request["subscription"]
    private = ec.derive_private_key(
        int.from_bytes(b64d(request["private_key"]), "big"), ec.SECP256R1()
    )
    headers = request["headers"]
    require(
        headers.get("Content-Encoding") == "aes128gcm",
        f"Content-Encoding {headers.get('Content-Encoding')!r}",
    )
    plaintext = decrypt(
        b64d(request["body"]), private, b64d(subscription["keys"]["auth"])
    )
    header, claims = verify_vapid(
        headers["Authorization"],
        subscription["endpoint"],
        request["subject"],
        request["now"],
    )
    return {"plaintext": b64e(plaintext), "jwt_header": header, "claims": claims}


def main():
    command = sys.argv[1] if len(sys.argv) == 2 else ""
    try:
        if command == "keys":
            result = keys()
        elif command == "check":
            result = check(json.load(sys.stdin))
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except (CheckFailed, http_ece.ECEException, InvalidTag, ValueError, KeyError) as e:
        print(f"webpush_check: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    json.dump(result, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
