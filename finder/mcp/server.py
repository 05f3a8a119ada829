"""`finder mcp`: the tools of tools.py served over stdio with the official MCP Python SDK
(its FastMCP server, `MCPServer` since mcp 2). Every tool is read-only; each answers
structured content (the schema below) and a text summary. A bad argument or a file the
library cannot read is a tool error the assistant sees, never a crash of the server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field

from finder.core.library import Library
from finder.mcp.tools import EXPECTED_ERRORS, MAX_K, Answer, FinderTools, ToolInputError

try:  # mcp >= 2
    from mcp.server.mcpserver import MCPServer as FastMCP
    from mcp.server.mcpserver.exceptions import ToolError
except ImportError:  # mcp 1.x
    from mcp.server.fastmcp import FastMCP  # type: ignore[no-redef]
    from mcp.server.fastmcp.exceptions import ToolError  # type: ignore[no-redef]

INSTRUCTIONS = (
    "finder searches the user's own photos and documents on this computer, by meaning "
    "(CLIP) and keywords. Read-only: nothing is changed, moved or deleted. Use `search` "
    "with words, `search_by_image` with a picture's path, `similar` with an indexed "
    "picture's path, `status` to see what is indexed."
)

Kind = Annotated[
    Literal["all", "photos", "docs"], Field(description="which files: photos, docs or all")
]
Count = Annotated[int, Field(ge=1, le=MAX_K, description="how many results")]
FilePath = Annotated[str, Field(min_length=1, description="an absolute path of a file")]
Day = Annotated[
    str | None, Field(description="YYYY-MM-DD: photos taken on or after/before this day")
]
Words = Annotated[str | None, Field(description="narrows to files whose metadata holds it")]


class Hit(BaseModel):
    path: str
    kind: Literal["photo", "document"]
    score: float
    relevance: float | None = Field(description="calibrated 0..1 for this query and model")
    match: str = Field(description="strong or weak")
    snippet: str | None = Field(description="the passage that matched (documents)")
    page: int | None


class Results(BaseModel):
    results: list[Hit]
    note: str = ""


class Status(BaseModel):
    model_config = {"extra": "allow"}  # every field of `finder status --json`
    data_dir: str
    model: str
    photos: int
    documents: int
    items: int
    errors: int
    index_state: str


READ_ONLY = ToolAnnotations.model_validate(
    {"readOnlyHint": True, "destructiveHint": False, "idempotentHint": True, "openWorldHint": False}
)


def build_server(library: Library) -> FastMCP:
    tools = FinderTools(library)
    server = FastMCP("finder", instructions=INSTRUCTIONS)

    def search(
        query: str,
        kind: Kind = "all",
        k: Count = 10,
        after: Day = None,
        before: Day = None,
        place: Words = None,
        camera: Words = None,
        folder: Annotated[str | None, Field(description="only files under this folder")] = None,
    ) -> Annotated[CallToolResult, Results]:
        """Search the user's photos and documents by what they show or say, narrowed by
        when a photo was taken (after, before), where (place: a city or country), the
        camera (a part of its make or model) or a folder."""
        return _call(
            lambda: tools.search(
                query,
                kind,
                k,
                after=after,
                before=before,
                place=place,
                camera=camera,
                folder=folder,
            )
        )

    def search_by_image(
        path: FilePath, kind: Kind = "all", k: Count = 10
    ) -> Annotated[CallToolResult, Results]:
        """Find photos and documents like a picture on this computer."""
        return _call(lambda: tools.search_by_image(path, kind, k))

    def similar(
        path: FilePath, kind: Kind = "all", k: Count = 10
    ) -> Annotated[CallToolResult, Results]:
        """Find files like a picture already in the index (itself left out)."""
        return _call(lambda: tools.similar(path, kind, k))

    def status() -> Annotated[CallToolResult, Status]:
        """What is indexed: folders, counts, the model, the index's health."""
        return _call(tools.status)

    for tool in (search, search_by_image, similar, status):
        server.add_tool(tool, annotations=READ_ONLY, structured_output=True)
    return server


def serve(library: Library) -> None:
    """Answer MCP requests on stdin/stdout until the client closes them."""
    build_server(library).run("stdio")


def _call(work: Callable[[], Answer]) -> Any:
    try:
        answer = work()
    except ToolInputError as exc:
        raise ToolError(str(exc)) from exc
    except EXPECTED_ERRORS as exc:
        raise ToolError(str(exc)) from exc
    return CallToolResult.model_validate(
        {
            "content": [TextContent(type="text", text=answer.summary)],
            "structuredContent": answer.structured,
        }
    )
