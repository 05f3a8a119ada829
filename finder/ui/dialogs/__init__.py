"""Windows opened from the main window."""
