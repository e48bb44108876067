"""Views of the computation: timeline, network diagram, equations, tokenizer, status bar."""
