"""The DEMO fulfilment secret: what signs recharge calls to the demo video platform in local runs.

FOR DEVELOPMENT ONLY. It is public (it is in the source), so it proves nothing: the demo seed gives
it to the demo StreamBox partner only when ABG_ENV is `development`, and the demo video platform
(abg/demo/video_platform.py) verifies with it unless ABG_DEMO_VIDEO_SECRET says otherwise. A real
partner's fulfilment secret is random, made by `rotateFulfilmentSecret`, and shown once.
"""

from __future__ import annotations

import base64

__all__ = ["DEMO_FULFILMENT_SECRET", "demo_fulfilment_secret_bytes"]

# In the form every signing secret has (`whsec_` + unpadded URL-safe base64 of 32 bytes); its
# UTF-8 bytes are the HMAC key, as for any other secret.
DEMO_FULFILMENT_SECRET = "whsec_DEMO-video-platform-not-for-production-use0"


def demo_fulfilment_secret_bytes() -> bytes:
    """The 32 bytes the secret stands for (as stored, wrapped, like any other secret)."""
    return base64.urlsafe_b64decode(DEMO_FULFILMENT_SECRET.removeprefix("whsec_") + "=")
