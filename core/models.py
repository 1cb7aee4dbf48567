"""The server's model list (GET {base}/models), for the sidebar's model picker."""

from __future__ import annotations

import time

import httpx

from core.config import Endpoint
from core.types import Attempt
from core.wire.errors import MalformedResponse
from core.wire.http import RetryPolicy, open_response


def fetch_models(endpoint: Endpoint, client: httpx.Client) -> list[str]:
    """Model ids, sorted; typed errors say why the list could not be had."""
    request = client.build_request("GET", endpoint.models_url(),
                                   headers=endpoint.headers(stream=False))
    attempts: list[Attempt] = []
    response = open_response(client, request, policy=RetryPolicy(max_retries=0),
                             attempts=attempts, key_env=endpoint.key_env, sleep=time.sleep,
                             secret=endpoint.api_key)
    try:
        response.read()
        body = response.json()
    except httpx.HTTPError:
        raise MalformedResponse("The model list could not be read: the connection broke. "
                                "Retry, or type the model name instead.") from None
    except ValueError:
        raise MalformedResponse(
            "The model list is not JSON. Check the base URL, or type the model name "
            "instead.") from None
    finally:
        response.close()
    return endpoint.format.model_ids(body)
