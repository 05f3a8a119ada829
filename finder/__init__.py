"""finder: local CLIP search over your photos and documents."""

__version__ = "0.1.0"
