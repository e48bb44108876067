"""Documentation output: screenshots, captions, composed frames and animations (File → Export View… is ui/export_view.py)."""
