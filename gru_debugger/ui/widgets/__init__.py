"""Reusable widgets: heatmaps, curves, colours, hover tracking, signal helpers, and the equations' formatting."""
