"""Documentation output: screenshots, captions, exporting views and numbers."""
