"""finder as a Model Context Protocol server (`finder mcp`, the `finder[mcp]` extra):
read-only tools over the library for an assistant. `tools.py` is what the tools do (plain
Python, no SDK); `server.py` serves them over stdio with the official `mcp` SDK."""
