"""Answers in the OpenAI chat-completion shape, with Tandem's extension field `tandem`.

The extension carries what an OpenAI response has no place for: the citations behind each [n]
in the text, the passages, the routing decision, guard findings and the trace id.
"""

from __future__ import annotations

import json
import time

from tandem.answer import Answer

EXTENSION = "tandem"


def extension(answer: Answer) -> dict:
    data = answer.to_dict()
    for private in ("question", "answer", "draft", "diagnostics"):
        data.pop(private, None)
    return data


def usage(answer: Answer) -> dict:
    prompt = int(answer.diagnostics.get("prompt_tokens", 0))
    completion = int(answer.diagnostics.get("completion_tokens", 0))
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def completion(answer: Answer, model: str, completion_id: str) -> dict:
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer.text},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": usage(answer),
        EXTENSION: extension(answer),
    }


def chunk(completion_id: str, model: str, delta: dict, finish: str | None = None, **extra: object) -> str:
    """One server-sent event of a streamed completion."""
    body = {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]
        if delta is not None
        else [],
        **extra,
    }
    return f"data: {json.dumps(body)}\n\n"


def error_event(message: str, code: str) -> str:
    return f"data: {json.dumps({'error': {'message': message, 'type': 'server_error', 'code': code}})}\n\n"


DONE = "data: [DONE]\n\n"
