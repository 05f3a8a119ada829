"""`finder mcp` driven by the MCP SDK's own client over stdio, on a library the CLI
indexed: the tools are listed (all read-only), `search` answers structured results and a
text summary, bad arguments are tool errors and the server keeps answering."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import anyio
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from finder.core.store.lock import WriterLock
from tests.langchain.conftest import FINDER_TINY

TOOLS = {"search", "search_by_image", "similar", "status"}


def server(data: Path) -> StdioServerParameters:
    env = {**os.environ, **FINDER_TINY}
    return StdioServerParameters(
        command=sys.executable, args=["-m", "finder", "mcp", "--data-dir", str(data)], env=env
    )


async def session_run(data: Path, calls):
    with anyio.fail_after(120):
        return await _session(data, calls)


async def _session(data: Path, calls):
    async with (
        stdio_client(server(data)) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        return await calls(session)


def run(data: Path, calls):
    return anyio.run(session_run, data, calls)


def text(result) -> str:
    return "\n".join(block.text for block in result.content if block.type == "text")


def structured(result) -> dict:
    return getattr(result, "structured_content", None) or result.structuredContent


def failed(result) -> bool:
    return bool(getattr(result, "is_error", None) or getattr(result, "isError", False))


def test_tools_listed_read_only_and_search_answers(indexed: tuple[Path, Path]) -> None:
    """With the data dir's writer lock held (by the app or `finder watch`), as it runs."""
    files, data = indexed

    async def calls(session: ClientSession):
        listed = await session.list_tools()
        answers = {
            "search": await session.call_tool("search", {"query": "a red circle", "k": 3}),
            "photos": await session.call_tool("search", {"query": "red", "kind": "photos", "k": 2}),
            "image": await session.call_tool(
                "search_by_image", {"path": str(files / "blue.png"), "k": 2}
            ),
            "similar": await session.call_tool("similar", {"path": str(files / "blue.png")}),
            "status": await session.call_tool("status", {}),
        }
        return listed, answers

    with WriterLock(data):
        listed, answers = run(data, calls)
    tools = {tool.name: tool for tool in listed.tools}
    assert set(tools) == TOOLS  # nothing that writes, moves or deletes
    for tool in tools.values():
        hints = tool.annotations.model_dump(by_alias=True)
        assert hints["readOnlyHint"] is True and hints["destructiveHint"] is False
    assert {"query", "kind", "k"} <= set(tools["search"].input_schema["properties"])

    search = answers["search"]
    assert not failed(search)
    results = structured(search)["results"]
    assert len(results) == 3
    for hit in results:
        assert {"path", "kind", "score", "relevance", "match", "snippet", "page"} <= set(hit)
        assert Path(hit["path"]).parent == files
    assert Path(results[0]["path"]).name in text(search)  # the summary names them
    assert {r["kind"] for r in structured(answers["photos"])["results"]} == {"photo"}
    assert structured(answers["image"])["results"][0]["path"] == str(files / "blue.png")
    similar = [r["path"] for r in structured(answers["similar"])["results"]]
    assert similar and str(files / "blue.png") not in similar
    status = structured(answers["status"])
    assert status["photos"] == 8 and status["documents"] == 2
    assert status["device"] == "the CPU" and status["device_fallback"] == ""


def test_bad_arguments_are_tool_errors(indexed: tuple[Path, Path]) -> None:
    files, data = indexed

    async def calls(session: ClientSession):
        return [
            await session.call_tool("search", {"query": "red", "k": 0}),
            await session.call_tool("search", {"query": "red", "kind": "videos"}),
            await session.call_tool("search", {}),
            await session.call_tool("search", {"query": "   "}),
            await session.call_tool("search_by_image", {"path": str(files / "missing.png")}),
            await session.call_tool("search_by_image", {"path": str(files / "note.txt")}),
            await session.call_tool("similar", {"path": str(files / "note.txt")}),
            await session.call_tool("similar", {"path": "relative.png"}),
            await session.call_tool("search", {"query": "red", "after": "yesterday-ish"}),
            # ... and the server still answers, filters too.
            await session.call_tool("search", {"query": "red", "folder": str(files / "none")}),
            await session.call_tool("search", {"query": "red", "k": 1}),
        ]

    *errors, elsewhere, after = run(data, calls)
    for error in errors:
        assert failed(error) and text(error)
    assert "is a document" in text(errors[6])
    assert not failed(elsewhere) and structured(elsewhere)["results"] == []
    assert not failed(after) and len(structured(after)["results"]) == 1
