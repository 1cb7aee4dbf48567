"""Stream handling and time-to-first-token overhead, against peers over the same loopback stream.

- floor: httpx line iteration + json.loads of every data line (no accumulation at all);
- openai SDK: the official client iterating the stream, folded with ChatCompletionStreamState;
- Toolsmith: core.turn.run_turn (SSE decode + accumulate into the final message).
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable

import httpx

from bench.loopback import LoopbackServer, tool_call_stream
from core.config import Endpoint
from core.turn import client_for, run_turn
from core.types import ChatSettings, Message

Result = dict[str, object]


def _best(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm-up: connections, imports, caches
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _floor(client: httpx.Client, url: str) -> int:
    count = 0
    with client.stream("POST", url, json={"model": "bench", "stream": True}) as response:
        for line in response.iter_lines():
            if line.startswith("data: ") and line != "data: [DONE]":
                json.loads(line[6:])
                count += 1
    return count


def _toolsmith(client: httpx.Client, endpoint: Endpoint) -> int:
    result = run_turn(endpoint, [Message("user", "bench")], [], ChatSettings(model="bench"),
                      client=client)
    assert result.message is not None, result.error
    return len(result.message.tool_calls[0].arguments)


def _openai_sdk(base_url: str) -> Callable[[], int]:
    import openai
    from openai.lib.streaming.chat import ChatCompletionStreamState

    sdk = openai.OpenAI(base_url=base_url, api_key="bench", max_retries=0)

    def run() -> int:
        state = ChatCompletionStreamState()
        stream = sdk.chat.completions.create(model="bench", messages=[
            {"role": "user", "content": "bench"}], stream=True)
        for chunk in stream:
            state.handle_chunk(chunk)
        final = state.get_final_completion()
        return len(final.choices[0].message.tool_calls[0].function.arguments)

    return run


def stream_handling(sizes: tuple[int, ...] = (10_000, 20_000, 40_000)) -> list[Result]:
    results: list[Result] = []
    client = client_for(Endpoint("custom", "", "").timeouts, demo=False)
    for size in sizes:
        with LoopbackServer(tool_call_stream(size)) as server:
            endpoint = Endpoint("custom", server.base_url, "bench")
            url = endpoint.chat_url()
            # Interleaved, best of 7 each: a shared machine's slow spells weigh on both alike.
            floors, ours_times = [], []
            for _ in range(7):
                floors.append(_best(lambda url=url: _floor(client, url), 1))
                ours_times.append(_best(lambda endpoint=endpoint: _toolsmith(client, endpoint), 1))
            floor, ours = min(floors), min(ours_times)
            sdk = _best(_openai_sdk(server.base_url), 2)
        results.append({"name": f"stream {size:,} chunks: Toolsmith vs floor (httpx lines + "
                                "json.loads)", "value": ours * 1000, "unit": "ms",
                        "peer": floor * 1000, "ratio": ours / floor, "target": "<= 2.0"})
        results.append({"name": f"stream {size:,} chunks: openai SDK vs Toolsmith "
                                "(times faster)", "value": ours * 1000, "unit": "ms",
                        "peer": sdk * 1000, "ratio": sdk / ours, "target": ">= 15"})
    client.close()
    return results


def ttft_overhead(repeat: int = 200) -> list[Result]:
    """Time to the first content token: Toolsmith's client against raw httpx, same server."""
    body = tool_call_stream(5)
    client = client_for(Endpoint("custom", "", "").timeouts, demo=False)
    with LoopbackServer(body) as server:
        endpoint = Endpoint("custom", server.base_url, "bench")
        raw, ours = [], []
        for _ in range(repeat):
            start = time.perf_counter()
            with client.stream("POST", endpoint.chat_url(), json={"model": "bench"}) as response:
                for line in response.iter_lines():
                    if '"tool_calls"' in line:
                        raw.append(time.perf_counter() - start)
                        break
            result = run_turn(endpoint, [Message("user", "x")], [], ChatSettings(model="bench"),
                              client=client)
            exchange = result.exchange
            ours.append(exchange.first_token_at - exchange.started_at)
    client.close()
    raw_ms, ours_ms = statistics.median(raw) * 1000, statistics.median(ours) * 1000
    return [{"name": "time to first token, median: Toolsmith client vs raw httpx",
             "value": ours_ms, "unit": "ms", "peer": raw_ms, "ratio": ours_ms / raw_ms,
             "target": "overhead <= 5 ms", "overhead_ms": ours_ms - raw_ms}]
