"""The desktop app's widgets: a thin layer over finder.core."""
