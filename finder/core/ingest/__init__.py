"""Reading the user's files: finding them, extracting text and pixels, OCR, thumbnails."""
